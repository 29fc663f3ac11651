"""Set-based statements of the portable backend: fetch by key in chunks, insert and update many
rows at once, on SQLAlchemy Core tables.

A batch of 1,000 orders costs a handful of statements (multi-row INSERT, executemany UPDATE),
never one per row. Rows to insert are tuples in the order of a column list. Each helper picks
the engine's own way: PostgreSQL's unnesting statements (``hub.core.postgres``), SQLite's
driver-level statements (``hub.core.sqlite.sql``), SQLAlchemy Core elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from hub.core import postgres
from hub.core.sqlite import behind as sqlite_behind
from hub.core.sqlite import sql as sqlite

CHUNK = 500


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@contextmanager
def write_behind(session: Session, id_tables: Sequence[Table] = ()) -> Iterator[None]:
    """Within the block, the batch's writes run on a second thread while the next chunk is
    planned, each backend its own way (``hub.core.postgres.behind``, ``hub.core.sqlite.behind``;
    ``id_tables``: SQLite numbers these tables' new rows itself). The block ends when every
    write is done."""
    if is_postgres(session):
        with postgres.write_behind(session):
            yield
    else:
        with sqlite_behind.write_behind(session, id_tables):
            yield


def fetch_by(
    session: Session,
    table: Table,
    columns: Sequence[str],
    key: str,
    values: Iterable[Any],
    *,
    named: bool = True,
    **filters: Any,
) -> list[Any]:
    """Rows of ``table`` whose ``key`` is in ``values`` (chunked) and matching ``filters``;
    with ``named=False`` plain tuples (cheaper, for callers that unpack them)."""
    ordered = sorted(set(values))
    if not ordered:
        return []
    if is_sqlite(session):
        return sqlite.fetch_by(session, table, tuple(columns), key, ordered, filters, named)
    if is_postgres(session):
        return postgres.fetch_by(session, table, columns, key, ordered, filters, named)
    cols = [table.c[name] for name in columns]
    where = [table.c[name] == value for name, value in filters.items()]
    rows: list[Any] = []
    for part in chunks(ordered):
        rows.extend(session.execute(select(*cols).where(*where, table.c[key].in_(part))))
    return rows if named else [tuple(row) for row in rows]


def count_by(
    session: Session, table: Table, key: str, group: str, values: Iterable[Any]
) -> list[tuple[Any, Any, int]]:
    """(key, group, count) of the rows of ``table`` whose ``key`` is in ``values``."""
    ordered = sorted(set(values))
    if is_postgres(session):
        return postgres.count_by(session, table, key, group, ordered)
    if is_sqlite(session):
        return sqlite.count_by(session, table, key, group, ordered)
    k, g = table.c[key], table.c[group]
    rows: list[Any] = []
    for part in chunks(ordered):
        stmt = select(k, g, func.count()).where(k.in_(part)).group_by(k, g)
        rows.extend(session.execute(stmt))
    return rows


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT ``rows`` (tuples in the order of ``columns``). PostgreSQL: one unnesting INSERT;
    SQLite: on the driver (inside ``hub.core.sqlite.behind.write_behind`` on its thread);
    elsewhere SQLAlchemy's batched insertmanyvalues."""
    if not rows:
        return
    if is_postgres(session):
        postgres.insert_rows(session, table, columns, rows)
    elif is_sqlite(session):
        sqlite.insert_rows(session, table, columns, rows)
    else:
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def insert_returning_ids(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> list[int]:
    """Insert many rows in one statement; their new ids in the same order.

    PostgreSQL: ids drawn from the sequence, then one unnesting INSERT (``hub.core.postgres``).
    SQLite: see ``hub.core.sqlite.sql.insert_returning_ids``. Other engines:
    ``INSERT ... RETURNING`` ordered by parameter (batched by SQLAlchemy)."""
    if not rows:
        return []
    if is_postgres(session):
        return postgres.insert_returning_ids(session, table, columns, rows)
    if is_sqlite(session):
        return sqlite.insert_returning_ids(session, table, columns, rows)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    params = [dict(zip(columns, row, strict=True)) for row in rows]
    return [row[0] for row in session.execute(stmt, params)]


def update_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """executemany UPDATE by id; every row must carry the same keys, ``id`` among them.
    PostgreSQL: one unnesting UPDATE (``hub.core.postgres``); SQLite: on the driver, on the
    write-behind thread inside one (``hub.core.sqlite.sql.update_rows``)."""
    if not rows:
        return
    if is_postgres(session):
        postgres.update_many(session, table, rows)
        return
    if is_sqlite(session):
        sqlite.update_rows(session, table, rows)
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


def ensure_named_any_case(
    session: Session, table: Table, workspace_id: int, names: Iterable[str]
) -> dict[str, int]:
    """``ensure_named`` for names unique case-insensitively (tags, 22.5): "VIP", "vip" and
    "Vip" are one; an existing spelling is kept, a new one takes the first given (sorted)."""
    wanted = sorted({n.strip() for n in names if n and n.strip()})
    spelling: dict[str, str] = {}
    for name in wanted:
        spelling.setdefault(name.lower(), name)
    by_lower: dict[str, int] = {}
    lowered = sorted(spelling)
    for start in range(0, len(lowered), 500):
        rows = session.execute(
            select(table.c.id, table.c.name).where(
                table.c.workspace_id == workspace_id,
                func.lower(table.c.name).in_(lowered[start : start + 500]),
            )
        )
        by_lower.update((name.lower(), id_) for id_, name in rows)
    missing = [spelling[low] for low in lowered if low not in by_lower]
    ids = insert_returning_ids(
        session, table, ("workspace_id", "name"), [(workspace_id, n) for n in missing]
    )
    by_lower.update(zip((m.lower() for m in missing), ids, strict=True))
    return {name: by_lower[name.lower()] for name in wanted}


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
