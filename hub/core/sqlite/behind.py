"""The write-behind thread of the SQLite fast path: a batch's INSERTs run on a second thread
while the planning thread plans the next chunk. Everything it changes for the block (the
interpreter's switch interval, a listener on the session's connection) is restored when the
block ends."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.orm import Session

from hub.core.jobs import JobThread
from hub.core.scope import switch_interval


def quoted(name: str) -> str:
    """An identifier from the code's own table and column names (never user input)."""
    return f'"{name}"'


def max_id(cursor: Any, table: Table) -> int:
    (last,) = cursor.execute(f"SELECT max(id) FROM {quoted(table.name)}").fetchone()
    return last or 0


def current() -> WriteBehind | None:
    """The write-behind of the block being run in this context, if any."""
    return _behind.get()


_behind: ContextVar[WriteBehind | None] = ContextVar("hub_write_behind", default=None)

# Rows per multi-row INSERT: SQLite binds at most 32,766 values per statement. Row counts are
# split into powers of two below this cap, down to EXACT_BELOW rows, and the rest is one
# statement of exactly its size. So the large statements (up to 11 ms to prepare) have a few
# shapes per table that the driver's statement cache (128) keeps, and a chunk's remainder is
# one statement, not up to seven: each statement costs the writing thread a wait for the GIL
# (2,139 statements per 100,000 orders in bench/ingest.py with powers of two all the way down,
# half as many this way; a small statement takes well under that wait to prepare).
MAX_ROWS = 1024
MAX_VALUES = 32_766
EXACT_BELOW = 128


class WriteBehind(JobThread):
    """A batch's INSERTs on a second thread while this thread plans the rest of the batch.

    SQLite runs a statement without holding the GIL, so its work on one chunk's rows overlaps
    with Python's planning of the next chunk. Each job is a multi-row ``INSERT ... VALUES``:
    ``executemany`` would give the GIL back and wait for it again at every row. The jobs run
    in order on the session's own connection, inside its transaction; anything else on that
    connection (an SQLAlchemy statement, ``raw_cursor``) first waits for them to finish, so
    reads always see the batch's writes. New ids of ``id_tables`` are assigned here rather
    than read back: the transaction takes SQLite's write lock first (``BEGIN IMMEDIATE``), so
    max(id) cannot move under it. A failed job fails the batch: the error is raised in this
    thread at the next wait, and the caller rolls back.
    """

    def __init__(self, session: Session, id_tables: Sequence[Table]) -> None:
        self.connection = session.connection()
        dbapi = self.connection.connection.dbapi_connection
        assert dbapi is not None  # a live connection of the session's transaction
        self.dbapi = dbapi
        # The driver opens a transaction only before its first INSERT, UPDATE or DELETE, and
        # SQLite takes the write lock at that statement: a transaction already open holds it.
        if not self.dbapi.in_transaction:
            self.dbapi.execute("BEGIN IMMEDIATE")
        cursor = self.dbapi.cursor()
        try:
            self.next_id = {table.name: max_id(cursor, table) + 1 for table in id_tables}
        finally:
            cursor.close()
        super().__init__("hub-write-behind")

    def take_ids(self, table: str, n: int) -> list[int]:
        first = self.next_id[table]
        self.next_id[table] = first + n
        return list(range(first, first + n))

    def insert(self, table: Table, columns: tuple[str, ...], cols: list[Sequence[Any]]) -> None:
        """Queue rows, given column by column and already converted for the driver.

        Their statements and parameters are built here, so that the writing thread only runs
        them: each time it needs the GIL back it may wait a switch interval while this thread
        plans, and building them there made it the slower of the two (8–10% more orders a
        second here, in A/B runs of the ingest)."""
        self.put(_statements(table, columns, cols))

    def begin(self) -> None:
        self.cursor = self.dbapi.cursor()

    def end(self) -> None:
        self.cursor.close()

    def run(self, job: list[tuple[str, Sequence[Any]]]) -> None:
        for sql, params in job:
            self.cursor.execute(sql, params)


def _statements(
    table: Table, columns: tuple[str, ...], cols: list[Sequence[Any]]
) -> list[tuple[str, list[Any]]]:
    """Multi-row INSERTs of the rows given column by column, with their parameters. A column
    holding one value throughout (the workspace, the batch's timestamp, an empty field) is
    bound once per statement, not once per row."""
    n = len(cols[0])
    same = tuple(
        i for i, col in enumerate(cols) if (first := col[0]) is col[-1] and col.count(first) == n
    )
    fixed = [cols[i][0] for i in same]
    varying = [col for i, col in enumerate(cols) if i not in same]
    width = len(varying)
    # Row-major values, one slice assignment per column (a third of the time of re-zipping
    # the columns into rows and chaining them).
    flat: list[Any] = [None] * (n * width)
    for j, col in enumerate(varying):
        flat[j::width] = col
    cap = _rows_cap(width, len(same))
    out = []
    done = 0
    while done < n:
        left = n - done
        if left >= cap:
            k = cap
        elif left >= EXACT_BELOW:
            k = 1 << (left.bit_length() - 1)
        else:
            k = left
        out.append(
            (
                _multi_insert(table, columns, same, k),
                fixed + flat[done * width : (done + k) * width],
            )
        )
        done += k
    return out


def _rows_cap(width: int, shared: int) -> int:
    """Rows per statement: the per-row values and the ``shared`` ones within SQLite's limit."""
    cap = MAX_ROWS
    while cap * width + shared > MAX_VALUES:
        cap //= 2
    return cap


@lru_cache(maxsize=1024)
def _multi_insert(table: Table, columns: tuple[str, ...], same: tuple[int, ...], n: int) -> str:
    """``INSERT ... VALUES`` of ``n`` rows; the columns ``same`` come first and take the
    numbered parameters ?1, ?2 ... in every row, the others a plain ``?`` each, row by row.

    Only the shared values are numbered. With every value numbered, SQLite took 0.7 s to
    prepare one statement of 1,024 rows and 30 columns (the time grows with the square of
    the count); with plain ``?`` markers it takes 11 ms."""
    order = [columns[i] for i in same] + [c for i, c in enumerate(columns) if i not in same]
    markers = [f"?{k}" for k in range(1, len(same) + 1)] + ["?"] * (len(columns) - len(same))
    row = "(" + ",".join(markers) + ")"
    return f"INSERT INTO {quoted(table.name)} ({', '.join(map(quoted, order))}) VALUES " + ",".join(
        [row] * n
    )


@contextmanager
def write_behind(session: Session, id_tables: Sequence[Table] = ()) -> Iterator[None]:
    """Within the block, ``insert_rows`` and ``insert_returning_ids`` of SQLite hand their rows
    to a :class:`WriteBehind` thread; elsewhere (PostgreSQL) they run as before. The block
    ends when every write is done."""
    if session.get_bind().dialect.name != "sqlite" or _behind.get() is not None:
        yield
        return
    behind = WriteBehind(session, id_tables)
    token = _behind.set(behind)
    # Any statement through SQLAlchemy on this connection first waits for the queued writes.
    connection = behind.connection
    event.listen(connection, "before_cursor_execute", _wait_for_write_behind)
    try:
        with switch_interval(SWITCH_INTERVAL):
            try:
                yield
            except BaseException:
                behind.close(discard=True)
                raise
            behind.close()
    finally:
        event.remove(connection, "before_cursor_execute", _wait_for_write_behind)
        _behind.reset(token)


# How soon the planning thread yields the GIL to the writer whose statement has finished.
SWITCH_INTERVAL = 0.0002


def _wait_for_write_behind(*_args: Any) -> None:
    """Any statement through SQLAlchemy waits for the writes handed to the thread (listens on
    the block's connection while the block runs)."""
    if (behind := _behind.get()) is not None:
        behind.wait()
