"""The SQLite fast path's statements: the backend's reads and writes as plain SQL on the
driver's own cursor, inside the session's transaction, with the column types' conversions
applied in bulk (column by column). SQLAlchemy's per-row parameter machinery and row wrapping
cost more than SQLite's own work on the rows."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

from hub.core.sqlite.behind import current, max_id, quoted
from hub.models.types import (
    Money,
    UTCDateTime,
    json_text,
    money_cents,
    money_cents_many,
    sqlite_utc_text,
    sqlite_utc_texts,
    utcnow,
)

CHUNK = 500


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def raw_cursor(session: Session) -> Any:
    """A DB-API cursor on the session's connection (inside its transaction), once every
    write handed to a write-behind thread is done."""
    if (behind := current()) is not None:
        behind.wait()
    return session.connection().connection.cursor()


def fetch_by(
    session: Session,
    table: Table,
    columns: tuple[str, ...],
    key: str,
    ordered: list[Any],
    filters: dict[str, Any],
    named: bool = True,
) -> list[Any]:
    """The same query as plain SQL with ``?`` markers on the driver's own cursor: SQLAlchemy
    renders a bound parameter per IN value at every execution and wraps every fetched row,
    which together cost more than SQLite answering the query. Result values still go through
    the column types (Money, UTCDateTime, JSON)."""
    dialect = session.get_bind().dialect
    row_type, converting = _result_shape(table, columns, dialect)
    where = "".join(f"{quoted(name)} = ? AND " for name in filters)
    head = (
        f"SELECT {', '.join(map(quoted, columns))} FROM {quoted(table.name)} "
        f"WHERE {where}{quoted(key)} IN "
    )
    fixed = tuple(_binder(table, name, dialect)(value) for name, value in filters.items())
    bind_key = _binder(table, key, dialect)
    cursor = raw_cursor(session)
    rows: list[Any] = []
    try:
        for part in _chunks(ordered):
            sql = head + "(" + ",".join("?" * len(part)) + ")"
            raw = cursor.execute(sql, fixed + tuple(map(bind_key, part))).fetchall()
            if converting:
                raw = [list(r) for r in raw]
                for values in raw:
                    for i, proc in converting:
                        values[i] = proc(values[i])
                if not named:
                    raw = list(map(tuple, raw))
            rows.extend(map(row_type._make, raw) if named else raw)
    finally:
        cursor.close()
    return rows


@lru_cache(maxsize=256)
def _result_shape(table: Table, columns: tuple[str, ...], dialect: Any) -> tuple[Any, list]:
    procs = [table.c[name].type.result_processor(dialect, None) for name in columns]
    row_type = namedtuple("Row", list(columns))  # type: ignore[misc]  # attribute access, like SQLAlchemy rows
    return row_type, [(i, p) for i, p in enumerate(procs) if p is not None]


def sqlite_counted(
    session: Session,
    workspace_id: int,
    source: str,
    external_ids: list[str],
    statuses: Sequence[str],
) -> dict[int, int]:
    """W5 (``hub.core.store.sales.counted``): units per product id on the lines of the orders
    of one source whose status is in ``statuses``, looked up on the orders' unique key."""
    marks = ",".join("?" * len(statuses))
    head = (
        "SELECT l.product_id, SUM(l.qty) FROM order_lines l JOIN orders o ON o.id = l.order_id "
        f"WHERE o.workspace_id = ? AND o.source = ? AND o.status IN ({marks}) "
        "AND l.product_id IS NOT NULL AND o.external_id IN "
    )
    fixed = (workspace_id, source, *statuses)
    units: dict[int, int] = {}
    cursor = raw_cursor(session)
    try:
        for part in _chunks(external_ids):
            sql = head + "(" + ",".join("?" * len(part)) + ") GROUP BY l.product_id"
            for pid, n in cursor.execute(sql, (*fixed, *part)):
                units[pid] = units.get(pid, 0) + int(n or 0)
    finally:
        cursor.close()
    return units


def _binder(table: Table, column: str, dialect: Any) -> Any:
    proc = sqlite_processor(table.c[column].type, dialect)
    return proc or (lambda value: value)


def sqlite_processor(type_: Any, dialect: Any) -> Any:
    """The column type's bind processor, with direct versions of the hub's own types."""
    if isinstance(type_, Money):
        return money_cents
    if isinstance(type_, UTCDateTime):
        return sqlite_utc_text
    if isinstance(type_, JSON):
        return _json_text
    return type_.bind_processor(dialect)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return "{}" if not value and type(value) is dict else json_text(value)


def insert_columns(
    session: Session, table: Table, columns: tuple[str, ...], cols: list[Sequence[Any]]
) -> None:
    """SQLite: INSERT rows given column by column (each column converted as a whole), on the
    write-behind thread when there is one, else in one executemany."""
    dialect = session.get_bind().dialect
    sql, converters = _insert_plan(table, columns, dialect)
    behind = current()
    n = len(cols[0])
    for i, proc in converters:
        col = cols[i]
        # One value throughout is converted once (``is`` first: equality of Decimals and
        # aware datetimes is slow, and a batch's shared value is one object).
        if (first := col[0]) is col[-1] and col.count(first) == n:
            cols[i] = (proc(first),) * n
        elif proc is sqlite_utc_text:
            cols[i] = sqlite_utc_texts(col)
        elif proc is money_cents:
            cols[i] = money_cents_many(col)
        else:
            cols[i] = tuple(map(proc, col))
    if behind is not None:
        behind.insert(table, columns, cols)
        return
    executemany_raw(session, sql, zip(*cols, strict=True))


def executemany_raw(session: Session, sql: str, params: Iterable[Sequence[Any]]) -> None:
    """``sql`` once per parameter tuple on the driver's own cursor, inside the session's
    transaction (SQLite: SQLAlchemy's per-row parameter handling costs more than the rows)."""
    cursor = raw_cursor(session)
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


@lru_cache(maxsize=256)
def _insert_plan(table: Table, columns: tuple[str, ...], dialect: Any) -> tuple[str, list]:
    sql = (
        f"INSERT INTO {quoted(table.name)} ({', '.join(map(quoted, columns))}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    converters = [
        (i, proc)
        for i, name in enumerate(columns)
        if (proc := sqlite_processor(table.c[name].type, dialect)) is not None
    ]
    return sql, converters


def count_by(
    session: Session, table: Table, key: str, group: str, ordered: list[Any]
) -> list[tuple[Any, Any, int]]:
    """(key, group, count) of the rows of ``table`` whose ``key`` is in ``ordered``."""
    head = (
        f"SELECT {quoted(key)}, {quoted(group)}, count(*) FROM {quoted(table.name)} "
        f"WHERE {quoted(key)} IN "
    )
    tail = f" GROUP BY {quoted(key)}, {quoted(group)}"
    rows: list[Any] = []
    cursor = raw_cursor(session)
    try:
        for part in _chunks(ordered):
            sql = head + "(" + ",".join("?" * len(part)) + ")" + tail
            rows.extend(cursor.execute(sql, tuple(part)).fetchall())
    finally:
        cursor.close()
    return rows


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT ``rows``: the column types' bind processors applied column by column (a column
    holding one value throughout, like a workspace id or a batch's timestamp, is converted
    once); inside ``write_behind`` on its thread, otherwise in one executemany."""
    dialect = session.get_bind().dialect
    sql, converters = _insert_plan(table, tuple(columns), dialect)
    if not converters and current() is None:
        executemany_raw(session, sql, rows)
        return
    insert_columns(session, table, tuple(columns), list(zip(*rows, strict=True)))


def insert_returning_ids(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> list[int]:
    """Ordered RETURNING would fall back to one statement per row, so insert in one
    executemany and read the ids back: SQLite gives each new row max(rowid) + 1, and this
    transaction holds the database's only write lock from its first write to its commit, so
    the new ids are the ``len(rows)`` consecutive ids ending at max(id). Checked, not assumed.
    Inside ``write_behind`` the ids are assigned from the block's own count."""
    behind = current()
    if behind is not None and table.name in behind.next_id:
        ids = behind.take_ids(table.name, len(rows))
        insert_columns(session, table, ("id", *columns), [ids, *zip(*rows, strict=True)])
        return ids
    insert_rows(session, table, columns, rows)
    cursor = raw_cursor(session)
    try:
        last = max_id(cursor, table)
        first = last - len(rows) + 1
        (count,) = cursor.execute(
            f"SELECT count(*) FROM {quoted(table.name)} WHERE id BETWEEN ? AND ?", (first, last)
        ).fetchone()
    finally:
        cursor.close()
    if count != len(rows):
        raise RuntimeError(f"{table.name}: new ids are not consecutive; refusing to guess")
    return list(range(first, last + 1))


def update_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """UPDATE rows by id (every row the same keys, ``id`` among them), the column types'
    bind processors applied here: on the write-behind thread when there is one (in order with
    the INSERTs queued before), else one executemany on the driver. SQLAlchemy's per-row
    parameter handling cost more than the rows (issue 23: the update path of an ingest)."""
    keys = tuple(k for k in rows[0] if k != "id")
    cols = [[row[k] for row in rows] for k in keys]
    stamp = table.c.get("updated_at")
    if stamp is not None and stamp.onupdate is not None and "updated_at" not in keys:
        keys += ("updated_at",)  # as SQLAlchemy's UPDATE sets it
        cols.append([utcnow()] * len(rows))
    sql, converters = _update_plan(table, keys, session.get_bind().dialect)
    for i, proc in converters:
        col = cols[i]
        if proc is sqlite_utc_text:
            cols[i] = sqlite_utc_texts(col)
        elif proc is money_cents:
            cols[i] = money_cents_many(col)
        else:
            cols[i] = list(map(proc, col))
    params = list(zip(*cols, [row["id"] for row in rows], strict=True))
    behind = current()
    if behind is not None:
        behind.put([(sql, p) for p in params])
        return
    executemany_raw(session, sql, params)


@lru_cache(maxsize=256)
def _update_plan(table: Table, keys: tuple[str, ...], dialect: Any) -> tuple[str, list]:
    sets = ", ".join(f"{quoted(k)} = ?" for k in keys)
    sql = f"UPDATE {quoted(table.name)} SET {sets} WHERE id = ?"
    converters = [
        (i, proc)
        for i, name in enumerate(keys)
        if (proc := sqlite_processor(table.c[name].type, dialect)) is not None
    ]
    return sql, converters
