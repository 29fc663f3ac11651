"""A batch's writes on a second thread while this thread plans the rest of the batch.

PostgreSQL does a chunk's inserts (index entries, foreign-key checks, WAL) in its own process
while psycopg waits without the GIL, so the server's work on one chunk overlaps with
Python's planning of the next: on a machine with two cores both are busy, rather than each
waiting for the other. The jobs (COPYs and UPDATEs, their rows already converted) run in
order on the session's own connection, inside its transaction; nothing else uses the
connection while one runs. What this thread does on the connection meanwhile keeps the
order the statements were asked in:

- a read of a table (``fetch_by``, ``count_by``) first waits for the jobs queued before it
  that write that table, so it sees every earlier write to it, as without the thread;
- drawing ids from a sequence waits for nothing (a sequence is outside the transaction);
- any statement through SQLAlchemy waits for every queued job (a listener on the block's
  connection while the block runs), and so does the end of the block: the commit follows it.

A failed job fails the batch: the jobs after it are dropped, its error is raised in this
thread at the next wait (at the latest when the block ends) and the caller rolls back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.core.jobs import JobThread
from hub.core.postgres.columns import cursor
from hub.core.scope import switch_interval

_behind: ContextVar[WriteBehind | None] = ContextVar("hub_pg_write_behind", default=None)

# How soon the planning thread yields the GIL to the writer whose statement has finished
# (Python's default is 5 ms: the server would sit idle that long after each job).
SWITCH_INTERVAL = 0.0005


class WriteBehind(JobThread):
    def __init__(self, session: Session) -> None:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None  # a live connection of the session's transaction
        self.dbapi = dbapi
        self.turn = threading.Lock()  # held by whoever uses the connection
        self.last_write: dict[str, int] = {}  # table -> the last job writing it
        super().__init__("hub-pg-write-behind")

    def submit(self, table: str, job: Callable[[Any], None]) -> None:
        """Queue ``job(cursor)``, a write of ``table``."""
        self.last_write[table] = self.put(job)

    def wait_for(self, table: str) -> None:
        """Return once the jobs writing ``table`` are done; raise the first job's error."""
        self.wait(self.last_write.get(table, 0))

    @contextmanager
    def using(self, table: str | None = None) -> Iterator[None]:
        """This thread's own use of the connection: after the jobs writing ``table`` (with
        None, after none of them), between two jobs."""
        if table is not None:
            self.wait_for(table)
        with self.turn:
            if self.error is not None:
                raise self.error
            yield

    def run(self, job: Callable[[Any], None]) -> None:
        with self.turn:
            cur = self.dbapi.cursor()
            try:
                job(cur)
            finally:
                cur.close()


def write(session: Session, table: str, job: Callable[[Any], None]) -> None:
    """``job(cursor)``, a write of ``table``: queued inside a block, else run now."""
    if (behind := _behind.get()) is not None:
        behind.submit(table, job)
        return
    cur = cursor(session)
    try:
        job(cur)
    finally:
        cur.close()


@contextmanager
def using(table: str | None = None) -> Iterator[None]:
    """A use of the session's connection in this thread (see :meth:`WriteBehind.using`)."""
    if (behind := _behind.get()) is None:
        yield
        return
    with behind.using(table):
        yield


@contextmanager
def write_behind(session: Session) -> Iterator[None]:
    """Within the block, the inserts and updates of ``hub.core.postgres`` on ``session`` go to a
    :class:`WriteBehind` thread. The block ends when every write is done."""
    if _behind.get() is not None:
        yield
        return
    behind = WriteBehind(session)
    # Any statement through SQLAlchemy on this connection first waits for the queued writes.
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", _wait_for_write_behind)
    token = _behind.set(behind)
    try:
        with switch_interval(SWITCH_INTERVAL):
            try:
                yield
            except BaseException:
                behind.close(discard=True)
                raise
            behind.close()
    finally:
        _behind.reset(token)
        event.remove(connection, "before_cursor_execute", _wait_for_write_behind)


def _wait_for_write_behind(*_args: Any) -> None:
    """A statement through SQLAlchemy waits for every write handed to the thread."""
    if (behind := _behind.get()) is not None:
        behind.wait()
