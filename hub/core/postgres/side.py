"""A batch's side connection on PostgreSQL: the resolver's owner lookups and the draws of new
ids on a connection of their own and a thread of their own, so that planning never waits for
the writes handed to the write-behind thread (``hub.core.postgres.behind``), which hold the
session's connection meanwhile.

The side connection reads in autocommit, each statement seeing what is committed. That is what
the session's own connection would see of the identities the resolver asks about, as long as
the session's transaction has written nothing before the batch: the resolver asks only about
identities it has not met in the batch, and it keeps in memory what the batch itself attaches
(``hub.core.plan.identity``), so the batch's own uncommitted writes are never what it asks for.
Hence :func:`side_reader` gives one only to a session with no write in its transaction yet
(``pg_current_xact_id_if_assigned()`` is NULL), as the SQLite fast path gives its snapshot
reader. A sequence is outside any transaction: ids drawn on either connection are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session

from hub.core.plan.identity import Lookups, Pending
from hub.core.postgres.columns import NEW_IDS_SQL, cursor

_side: ContextVar[SideReader | None] = ContextVar("hub_pg_side_reader", default=None)

_OWNERS_SQL = (
    "SELECT i.value, i.customer_id FROM unnest(%b::varchar[]) AS k(value) "
    "JOIN identities AS i ON i.workspace_id = %s AND i.type = %s AND i.value = k.value"
)
_CUSTOMER_IDS_SQL = (
    "SELECT c.id, coalesce(c.merged_into_id, c.id) FROM unnest(%b::int[]) AS k(id) "
    "JOIN customers AS c ON c.id = k.id WHERE c.workspace_id = %s"
)
_COUNTS_SQL = (
    "SELECT i.customer_id, i.type, count(*) FROM unnest(%b::int[]) AS k(id) "
    "JOIN identities AS i ON i.customer_id = k.id GROUP BY i.customer_id, i.type"
)


class SideReader:
    """Statements on a pooled connection of the session's engine, in autocommit, one after
    another on a thread of their own; :meth:`close` gives the connection back."""

    def __init__(self, session: Session) -> None:
        self.raw = session.get_bind().engine.raw_connection()
        self.con: Any = self.raw.driver_connection
        assert self.con is not None
        self.con.autocommit = True
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="hub-pg-side-reader")

    def submit(self, sql: str, params: Iterable[Any]) -> Future[list[tuple[Any, ...]]]:
        """The rows of ``sql``, as a future."""
        return self.pool.submit(self._rows, sql, list(params))

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self.con.cursor() as cur:
            return cur.execute(sql, params).fetchall()

    def new_ids(self, table: str, n: int) -> list[int]:
        """``n`` ids from the sequence of ``table``'s id column."""
        return [id_ for (id_,) in self.submit(NEW_IDS_SQL, (f'"{table}"', n)).result()]

    def lookups(self, workspace_id: int) -> Lookups:
        """The resolver's lookups (``hub.core.plan.identity.Lookups``) on this connection."""

        def owners(type_: str, values: Iterable[str]) -> Pending:
            if type_ == "customer_id":
                ids = sorted({int(v) for v in values if v.isascii() and v.isdigit()})
                found = self.submit(_CUSTOMER_IDS_SQL, (ids, workspace_id))
                return _Rekeyed(found)
            return self.submit(_OWNERS_SQL, (list(values), workspace_id, type_))

        def counts(customer_ids: set[int]) -> list[tuple[Any, ...]]:
            return self.submit(_COUNTS_SQL, (sorted(customer_ids),)).result()

        return Lookups(owners, counts)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        try:
            self.con.autocommit = False
        finally:
            self.raw.close()  # back to the pool


class _Rekeyed:
    """Customer ids found, as the (value, owner) pairs of the ``customer_id`` identity."""

    def __init__(self, rows: Future[list[tuple[Any, ...]]]) -> None:
        self.rows = rows

    def result(self) -> list[tuple[str, int]]:
        return [(str(cid), owner) for cid, owner in self.rows.result()]


def side_reader(session: Session) -> SideReader | None:
    """A :class:`SideReader` for a batch on ``session`` (PostgreSQL) if its transaction has
    written nothing yet; otherwise None (the batch reads through the session)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    cur = cursor(session)
    try:
        (xid,) = cur.execute("SELECT pg_current_xact_id_if_assigned()").fetchone()
    finally:
        cur.close()
    if xid is not None:
        return None
    return SideReader(session)


def using_side(reader: SideReader | None) -> Callable[[], None]:
    """Make ``reader`` the one :func:`current` returns (None: none); the returned function
    undoes it."""
    token = _side.set(reader)
    return lambda: _side.reset(token)


def current() -> SideReader | None:
    """The side reader of the batch running in this context, if any."""
    return _side.get()
