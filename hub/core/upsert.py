"""Set-based helpers for the ingest: fetch by key in chunks, insert and update many rows at once.

Everything here works on SQLAlchemy Core tables so that a batch of 1,000 orders costs a
handful of statements (multi-row INSERT ... RETURNING, executemany UPDATE), never one per row.
Rows to insert are tuples in the order of a column list: on SQLite they go to the driver as
they are, after the column types' conversions are applied column by column.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from hub.models.types import Money, UTCDateTime, json_text, money_cents, sqlite_utc_text

CHUNK = 500


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def fetch_by(
    session: Session,
    table: Table,
    columns: Sequence[str],
    key: str,
    values: Iterable[Any],
    **filters: Any,
) -> list[Any]:
    """Rows of ``table`` whose ``key`` is in ``values`` (chunked) and matching ``filters``."""
    ordered = sorted(set(values))
    if not ordered:
        return []
    if is_sqlite(session):
        return _fetch_by_sqlite(session, table, tuple(columns), key, ordered, filters)
    cols = [table.c[name] for name in columns]
    where = [table.c[name] == value for name, value in filters.items()]
    rows: list[Any] = []
    for part in chunks(ordered):
        rows.extend(session.execute(select(*cols).where(*where, table.c[key].in_(part))))
    return rows


def count_by(
    session: Session, table: Table, key: str, group: str, values: Iterable[Any]
) -> list[tuple[Any, Any, int]]:
    """(key, group, count) of the rows of ``table`` whose ``key`` is in ``values``."""
    ordered = sorted(set(values))
    k, g = table.c[key], table.c[group]
    rows: list[Any] = []
    if not is_sqlite(session):
        for part in chunks(ordered):
            stmt = select(k, g, func.count()).where(k.in_(part)).group_by(k, g)
            rows.extend(session.execute(stmt))
        return rows
    head = (
        f"SELECT {_quoted(key)}, {_quoted(group)}, count(*) FROM {_quoted(table.name)} "
        f"WHERE {_quoted(key)} IN "
    )
    tail = f" GROUP BY {_quoted(key)}, {_quoted(group)}"
    cursor = raw_cursor(session)
    try:
        for part in chunks(ordered):
            sql = head + "(" + ",".join("?" * len(part)) + ")" + tail
            rows.extend(cursor.execute(sql, tuple(part)).fetchall())
    finally:
        cursor.close()
    return rows


def raw_cursor(session: Session) -> Any:
    """A DB-API cursor on the session's connection (inside its transaction)."""
    return session.connection().connection.cursor()


def _fetch_by_sqlite(
    session: Session,
    table: Table,
    columns: tuple[str, ...],
    key: str,
    ordered: list[Any],
    filters: dict[str, Any],
) -> list[Any]:
    """The same query as plain SQL with ``?`` markers on the driver's own cursor: SQLAlchemy
    renders a bound parameter per IN value at every execution and wraps every fetched row,
    which together cost more than SQLite answering the query. Result values still go through
    the column types (Money, UTCDateTime, JSON)."""
    dialect = session.get_bind().dialect
    row_type, converting = _result_shape(table, columns, dialect)
    where = "".join(f"{_quoted(name)} = ? AND " for name in filters)
    head = (
        f"SELECT {', '.join(map(_quoted, columns))} FROM {_quoted(table.name)} "
        f"WHERE {where}{_quoted(key)} IN "
    )
    fixed = tuple(_binder(table, name, dialect)(value) for name, value in filters.items())
    bind_key = _binder(table, key, dialect)
    cursor = raw_cursor(session)
    rows: list[Any] = []
    try:
        for part in chunks(ordered):
            sql = head + "(" + ",".join("?" * len(part)) + ")"
            raw = cursor.execute(sql, fixed + tuple(map(bind_key, part))).fetchall()
            if converting:
                raw = [list(r) for r in raw]
                for values in raw:
                    for i, proc in converting:
                        values[i] = proc(values[i])
            rows.extend(map(row_type._make, raw))
    finally:
        cursor.close()
    return rows


@lru_cache(maxsize=256)
def _result_shape(table: Table, columns: tuple[str, ...], dialect: Any) -> tuple[Any, list]:
    procs = [table.c[name].type.result_processor(dialect, None) for name in columns]
    row_type = namedtuple("Row", columns)  # attribute access, like SQLAlchemy rows
    return row_type, [(i, p) for i, p in enumerate(procs) if p is not None]


def _quoted(name: str) -> str:
    """An identifier from the code's own table and column names (never user input)."""
    return f'"{name}"'


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


class _Memo:
    """Conversions of money and times remembered across columns, tables and batches: a line's
    unit price, total and paid amount are mostly one value, a purchase event repeats its order's
    time and amount, and a re-synced order its own. Bounded: cleared when it grows past
    ``size`` values. Floats and naive datetimes are never remembered, so they still raise."""

    def __init__(self, proc: Any, kind: type, size: int = 50_000) -> None:
        self.proc, self.kind, self.size = proc, kind, size
        self.done: dict[Any, Any] = {}

    def column(self, col: Sequence[Any]) -> tuple[Any, ...]:
        if set(map(type, col)) - {self.kind, type(None)}:  # e.g. a float: equal, never the same
            return tuple(map(self.proc, col))
        done = self.done
        missing = set(col).difference(done)
        if missing:
            if len(done) + len(missing) > self.size:
                done.clear()
                missing = set(col)
            for value in missing:
                done[value] = self.proc(value)
        try:
            return tuple(map(done.__getitem__, col))
        except KeyError:  # another thread cleared the memo meanwhile
            return tuple(map(self.proc, col))


_MEMOS = {
    money_cents: _Memo(money_cents, Decimal),
    sqlite_utc_text: _Memo(sqlite_utc_text, datetime),
}


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """One executemany INSERT of ``rows`` (tuples in the order of ``columns``).

    On SQLite the column types' bind processors are applied here, column by column (a column
    holding one value throughout, like a workspace id or a batch's timestamp, is converted
    once), and the statement goes straight to the driver: SQLAlchemy's per-row parameter
    machinery costs more than SQLite itself. Elsewhere SQLAlchemy's batched insertmanyvalues."""
    if not rows:
        return
    if not is_sqlite(session):
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    sql, converters = _insert_plan(table, tuple(columns), session.get_bind().dialect)
    params: Iterable[tuple[Any, ...]] = rows
    if converters:
        n = len(rows)
        cols: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for i, proc in converters:
            col = cols[i]
            if (memo := _MEMOS.get(proc)) is not None:
                cols[i] = memo.column(col)
            elif col.count(first := col[0]) == n:
                cols[i] = (proc(first),) * n
            else:
                cols[i] = tuple(map(proc, col))
        params = zip(*cols, strict=True)
    executemany_raw(session, sql, params)


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
        f"INSERT INTO {_quoted(table.name)} ({', '.join(map(_quoted, columns))}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    converters = [
        (i, proc)
        for i, name in enumerate(columns)
        if (proc := sqlite_processor(table.c[name].type, dialect)) is not None
    ]
    return sql, converters


def insert_returning_ids(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> list[int]:
    """Insert many rows in one statement; their new ids in the same order.

    PostgreSQL: ``INSERT ... RETURNING`` ordered by parameter (batched by SQLAlchemy).
    SQLite: ordered RETURNING would fall back to one statement per row, so insert in one
    executemany and read the ids back: SQLite gives each new row max(rowid) + 1, and this
    transaction holds the database's only write lock from its first write to its commit, so
    the new ids are the ``len(rows)`` consecutive ids ending at max(id). Checked, not assumed.
    """
    if not rows:
        return []
    if not is_sqlite(session):
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        params = [dict(zip(columns, row, strict=True)) for row in rows]
        return [row[0] for row in session.execute(stmt, params)]
    insert_rows(session, table, columns, rows)
    name = _quoted(table.name)
    cursor = raw_cursor(session)
    try:
        (last,) = cursor.execute(f"SELECT max(id) FROM {name}").fetchone()
        first = last - len(rows) + 1
        (count,) = cursor.execute(
            f"SELECT count(*) FROM {name} WHERE id BETWEEN ? AND ?", (first, last)
        ).fetchone()
    finally:
        cursor.close()
    if count != len(rows):
        raise RuntimeError(f"{table.name}: new ids are not consecutive; refusing to guess")
    return list(range(first, last + 1))


def update_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """executemany UPDATE by id; every row must carry the same keys, ``id`` among them."""
    if not rows:
        return
    keys = [k for k in rows[0] if k != "id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({k: bindparam(f"_v_{k}") for k in keys})
    )
    params = [{"_id": r["id"], **{f"_v_{k}": r[k] for k in keys}} for r in rows]
    session.execute(stmt, params)


def ensure_named(
    session: Session, table: Table, workspace_id: int, names: Iterable[str]
) -> dict[str, int]:
    """id by name for tags or groups, creating the missing ones."""
    wanted = sorted({n.strip() for n in names if n and n.strip()})
    found = {
        name: id_
        for id_, name in fetch_by(
            session, table, ["id", "name"], "name", wanted, workspace_id=workspace_id
        )
    }
    missing = [n for n in wanted if n not in found]
    ids = insert_returning_ids(
        session, table, ("workspace_id", "name"), [(workspace_id, n) for n in missing]
    )
    found.update(zip(missing, ids, strict=True))
    return found


def link_missing(
    session: Session, table: Table, owner_col: str, pairs: set[tuple[int, int]]
) -> int:
    """Insert (customer_id, owner) link rows that do not exist yet; how many were added."""
    if not pairs:
        return 0
    customers = {c for c, _ in pairs}
    existing = {
        (c, o)
        for c, o in fetch_by(session, table, ["customer_id", owner_col], "customer_id", customers)
    }
    new = sorted(pairs - existing)
    insert_rows(session, table, ("customer_id", owner_col), new)
    return len(new)
