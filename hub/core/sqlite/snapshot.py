"""The snapshot reader of the SQLite fast path: the resolver's owner lookups on a SQLite
connection of its own and a thread of its own, so that a batch reads what its next chunk needs
while the session's connection writes this one (``hub.core.sqlite.behind``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson
from sqlalchemy.orm import Session

from hub.core.plan.identity import Lookups, Pending

# The snapshot reader's queries: one JSON array each.
_OWNERS_SQL = (
    "SELECT json_group_array(json_array(value, customer_id)) FROM identities "
    "WHERE workspace_id = ? AND type = ? AND value IN (SELECT value FROM json_each(?))"
)
_CUSTOMER_IDS_SQL = (
    "SELECT json_group_array(json_array(id, coalesce(merged_into_id, id))) FROM customers "
    "WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))"
)
_COUNTS_SQL = (
    "SELECT json_group_array(json_array(customer_id, type, n)) FROM ("
    "SELECT customer_id, type, count(*) AS n FROM identities "
    "WHERE customer_id IN (SELECT value FROM json_each(?)) GROUP BY customer_id, type)"
)


class SnapshotReader:
    """Queries on a SQLite connection of its own, run one after another on a thread of its own,
    so that a batch can read what its next chunk needs while the session's connection is busy
    writing this one (``write_behind``).

    It sees only what is committed. The batch takes the write lock before its first write and
    holds it to its commit, so no one else commits meanwhile: what this connection sees is the
    database as it was before the batch, and the batch's own writes are what the caller keeps
    in memory. Hence :func:`snapshot_reader` gives one only to a session with nothing written
    yet in its transaction. Each query returns one JSON text (SQLite builds it without the
    GIL; a row at a time, the thread would wait for the GIL at every row)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="hub-snapshot-reader")
        self.con: sqlite3.Connection | None = None

    def json(self, sql: str, params: Sequence[Any]) -> Future[Any]:
        """The decoded JSON of the single value ``sql`` selects, as a future."""
        return self.pool.submit(self._json, sql, params)

    def _json(self, sql: str, params: Sequence[Any]) -> Any:
        if self.con is None:
            self.con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.con.execute("PRAGMA busy_timeout=30000")
        (text,) = self.con.execute(sql, params).fetchone()
        return orjson.loads(text)

    def close(self) -> None:
        self.pool.submit(self._close)
        self.pool.shutdown(wait=True)

    def _close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def snapshot_reader(session: Session) -> SnapshotReader | None:
    """A :class:`SnapshotReader` on the session's SQLite file, if its connection has written
    nothing in the current transaction; otherwise None (read through the session)."""
    bind = session.get_bind()
    path = bind.engine.url.database
    if bind.dialect.name != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return None
    dbapi = session.connection().connection.dbapi_connection
    if dbapi is None or dbapi.in_transaction:
        return None
    return SnapshotReader(path)


class _Rekeyed:
    """Customer ids found, as the (value, owner) pairs of the ``customer_id`` identity."""

    def __init__(self, rows: Future[Any]) -> None:
        self.rows = rows

    def result(self) -> list[tuple[str, int]]:
        return [(str(cid), owner) for cid, owner in self.rows.result()]


def _json_list(values: Iterable[Any]) -> str:
    return orjson.dumps(list(values)).decode()


def snapshot_lookups(reader: SnapshotReader, workspace_id: int) -> Lookups:
    """The resolver's lookups answered by ``reader`` (see ``hub.core.plan.identity.Lookups``)."""

    def owners(type_: str, values: Iterable[str]) -> Pending:
        if type_ == "customer_id":
            ids = sorted({int(v) for v in values if v.isascii() and v.isdigit()})
            return _Rekeyed(reader.json(_CUSTOMER_IDS_SQL, (workspace_id, _json_list(ids))))
        return reader.json(_OWNERS_SQL, (workspace_id, type_, _json_list(values)))

    def counts(customer_ids: set[int]) -> list[tuple[int, str, int]]:
        return reader.json(_COUNTS_SQL, (_json_list(customer_ids),)).result()

    return Lookups(owners, counts)
