"""Set-based helpers for the ingest: fetch by key in chunks, insert and update many rows at once.

Everything here works on SQLAlchemy Core tables so that a batch of 1,000 orders costs a
handful of statements (multi-row INSERT ... RETURNING, executemany UPDATE), never one per row.
"""

from __future__ import annotations

import json
import operator
from collections import namedtuple
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import JSON, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from hub.models.types import Money, UTCDateTime, money_cents, sqlite_utc_text

CHUNK = 500


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


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
    if session.get_bind().dialect.name == "sqlite":
        return _fetch_by_sqlite(session, table, columns, key, ordered, filters)
    cols = [table.c[name] for name in columns]
    where = [table.c[name] == value for name, value in filters.items()]
    rows: list[Any] = []
    for part in chunks(ordered):
        rows.extend(session.execute(select(*cols).where(*where, table.c[key].in_(part))))
    return rows


def _fetch_by_sqlite(
    session: Session,
    table: Table,
    columns: Sequence[str],
    key: str,
    ordered: list[Any],
    filters: dict[str, Any],
) -> list[Any]:
    """The same query as plain SQL with ``?`` markers: SQLAlchemy renders a bound parameter
    per IN value at every execution, which costs more than SQLite answering the query. Result
    values still go through the column types (Money, UTCDateTime, JSON)."""
    conn = session.connection()
    dialect = conn.dialect
    procs = [table.c[name].type.result_processor(dialect, None) for name in columns]
    row_type = namedtuple("Row", columns)  # attribute access, like SQLAlchemy rows
    where = "".join(f"{_quoted(name)} = ? AND " for name in filters)
    head = (
        f"SELECT {', '.join(map(_quoted, columns))} FROM {_quoted(table.name)} "
        f"WHERE {where}{_quoted(key)} IN "
    )
    fixed = [_binder(table, name, dialect)(value) for name, value in filters.items()]
    bind_key = _binder(table, key, dialect)
    converting = [(i, p) for i, p in enumerate(procs) if p is not None]
    rows: list[Any] = []
    for part in chunks(ordered):
        sql = head + "(" + ",".join("?" * len(part)) + ")"
        cursor = conn.exec_driver_sql(sql, tuple(fixed + [bind_key(v) for v in part]))
        if not converting:
            rows.extend(map(row_type._make, cursor))
            continue
        for raw in cursor:
            values = list(raw)
            for i, proc in converting:
                values[i] = proc(values[i])
            rows.append(row_type._make(values))
    return rows


def _quoted(name: str) -> str:
    """An identifier from the code's own table and column names (never user input)."""
    return f'"{name}"'


def _binder(table: Table, column: str, dialect: Any) -> Any:
    proc = sqlite_processor(table.c[column].type, dialect)
    return proc or (lambda value: value)


def insert_returning_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in one statement; their new ids in the same order.

    PostgreSQL: ``INSERT ... RETURNING`` ordered by parameter (batched by SQLAlchemy).
    SQLite: ordered RETURNING would fall back to one statement per row, so insert in one
    executemany and read the ids back: SQLite gives each new row max(rowid) + 1, and this
    transaction holds the database's only write lock from its first write to its commit, so
    the new ids are the ``len(rows)`` consecutive ids ending at max(id). Checked, not assumed.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name != "sqlite":
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [row[0] for row in session.execute(stmt, rows)]
    insert_many(session, table, rows)
    last = session.execute(select(func.max(table.c.id))).scalar_one()
    first = last - len(rows) + 1
    count = session.execute(
        select(func.count()).where(table.c.id.between(first, last))
    ).scalar_one()
    if count != len(rows):
        raise RuntimeError(f"{table.name}: new ids are not consecutive; refusing to guess")
    return list(range(first, last + 1))


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
    return "{}" if value == {} else json.dumps(value)


def insert_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT. On SQLite the column types' bind processors are applied here
    and the statement goes straight to the driver (SQLAlchemy's per-row parameter machinery
    costs more than SQLite itself); elsewhere SQLAlchemy's batched insertmanyvalues is used."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        session.execute(insert(table), rows)
        return
    cols = list(rows[0])
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=cols)
    names = list(compiled.positiontup or cols)
    converters = [
        (i, proc)
        for i, name in enumerate(names)
        if (proc := sqlite_processor(table.c[name].type, conn.dialect)) is not None
    ]
    getter = operator.itemgetter(*names)
    params = []
    for row in rows:
        values = list(getter(row)) if len(names) > 1 else [row[names[0]]]
        for i, proc in converters:
            values[i] = proc(values[i])
        params.append(tuple(values))
    conn.exec_driver_sql(str(compiled), params)


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
        session, table, [{"workspace_id": workspace_id, "name": n} for n in missing]
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
    insert_many(session, table, [{"customer_id": c, owner_col: o} for c, o in new])
    return len(new)
