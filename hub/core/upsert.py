"""Set-based helpers for the ingest: fetch by key in chunks, insert and update many rows at once.

Everything here works on SQLAlchemy Core tables so that a batch of 1,000 orders costs a
handful of statements (multi-row INSERT ... RETURNING, executemany UPDATE), never one per row.
Rows to insert are tuples in the order of a column list: on SQLite they go to the driver as
they are, after the column types' conversions are applied column by column.
"""

from __future__ import annotations

import queue
import sqlite3
import sys
import threading
from collections import namedtuple
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Table, bindparam, event, func, insert, select, update
from sqlalchemy.orm import Session

from hub.core import postgres
from hub.models.types import (
    Money,
    UTCDateTime,
    json_text,
    money_cents,
    money_cents_many,
    sqlite_utc_text,
    sqlite_utc_texts,
)

CHUNK = 500


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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
        return _fetch_by_sqlite(session, table, tuple(columns), key, ordered, filters, named)
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
    """A DB-API cursor on the session's connection (inside its transaction), once every
    write handed to a write-behind thread is done."""
    if (behind := _behind.get()) is not None:
        behind.wait()
    return session.connection().connection.cursor()


def _fetch_by_sqlite(
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
                if not named:
                    raw = list(map(tuple, raw))
            rows.extend(map(row_type._make, raw) if named else raw)
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


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT ``rows`` (tuples in the order of ``columns``).

    On SQLite the column types' bind processors are applied here, column by column (a column
    holding one value throughout, like a workspace id or a batch's timestamp, is converted
    once), and the statement goes straight to the driver: SQLAlchemy's per-row parameter
    machinery costs more than SQLite itself. Inside ``write_behind`` the rows go to its thread;
    otherwise one executemany. PostgreSQL: one unnesting INSERT (``hub.core.postgres``).
    Elsewhere SQLAlchemy's batched insertmanyvalues."""
    if not rows:
        return
    if is_postgres(session):
        postgres.insert_rows(session, table, columns, rows)
        return
    if not is_sqlite(session):
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    dialect = session.get_bind().dialect
    sql, converters = _insert_plan(table, tuple(columns), dialect)
    behind = _behind.get()
    if not converters and behind is None:
        executemany_raw(session, sql, rows)
        return
    _insert_columns(session, table, tuple(columns), list(zip(*rows, strict=True)))


def _insert_columns(
    session: Session, table: Table, columns: tuple[str, ...], cols: list[Sequence[Any]]
) -> None:
    """SQLite: INSERT rows given column by column (each column converted as a whole), on the
    write-behind thread when there is one, else in one executemany."""
    dialect = session.get_bind().dialect
    sql, converters = _insert_plan(table, columns, dialect)
    behind = _behind.get()
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

    PostgreSQL: ids drawn from the sequence, then one unnesting INSERT (``hub.core.postgres``).
    Other engines: ``INSERT ... RETURNING`` ordered by parameter (batched by SQLAlchemy).
    SQLite: ordered RETURNING would fall back to one statement per row, so insert in one
    executemany and read the ids back: SQLite gives each new row max(rowid) + 1, and this
    transaction holds the database's only write lock from its first write to its commit, so
    the new ids are the ``len(rows)`` consecutive ids ending at max(id). Checked, not assumed.
    """
    if not rows:
        return []
    if is_postgres(session):
        return postgres.insert_returning_ids(session, table, columns, rows)
    if not is_sqlite(session):
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        params = [dict(zip(columns, row, strict=True)) for row in rows]
        return [row[0] for row in session.execute(stmt, params)]
    behind = _behind.get()
    if behind is not None and table.name in behind.next_id:
        ids = behind.take_ids(table.name, len(rows))
        _insert_columns(session, table, ("id", *columns), [ids, *zip(*rows, strict=True)])
        return ids
    insert_rows(session, table, columns, rows)
    cursor = raw_cursor(session)
    try:
        last = _max_id(cursor, table)
        first = last - len(rows) + 1
        (count,) = cursor.execute(
            f"SELECT count(*) FROM {_quoted(table.name)} WHERE id BETWEEN ? AND ?", (first, last)
        ).fetchone()
    finally:
        cursor.close()
    if count != len(rows):
        raise RuntimeError(f"{table.name}: new ids are not consecutive; refusing to guess")
    return list(range(first, last + 1))


def _max_id(cursor: Any, table: Table) -> int:
    (last,) = cursor.execute(f"SELECT max(id) FROM {_quoted(table.name)}").fetchone()
    return last or 0


def update_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """executemany UPDATE by id; every row must carry the same keys, ``id`` among them.
    PostgreSQL: one unnesting UPDATE (``hub.core.postgres``)."""
    if not rows:
        return
    if is_postgres(session):
        postgres.update_many(session, table, rows)
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


# ---------------------------------------------------------------- write-behind (SQLite)

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


class WriteBehind:
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
        engine = session.get_bind()
        if not event.contains(engine, "before_cursor_execute", _wait_for_write_behind):
            event.listen(engine, "before_cursor_execute", _wait_for_write_behind)
        self.dbapi = session.connection().connection.dbapi_connection
        # The driver opens a transaction only before its first INSERT, UPDATE or DELETE, and
        # SQLite takes the write lock at that statement: a transaction already open holds it.
        if not self.dbapi.in_transaction:
            self.dbapi.execute("BEGIN IMMEDIATE")
        cursor = self.dbapi.cursor()
        try:
            self.next_id = {table.name: _max_id(cursor, table) + 1 for table in id_tables}
        finally:
            cursor.close()
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.done = threading.Condition()
        self.pending = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="hub-write-behind", daemon=True)
        self.thread.start()

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
        statements = _statements(table, columns, cols)
        with self.done:
            self.pending += 1
        self.jobs.put(statements)

    def wait(self) -> None:
        """Return once every queued job has run; raise the first job's error."""
        with self.done:
            while self.pending and self.error is None:
                self.done.wait()
            if self.error is not None:
                raise self.error

    def close(self, *, discard: bool = False) -> None:
        """Stop the thread; with ``discard``, jobs not started yet are dropped."""
        if discard:
            with self.done:
                self.error = self.error or _Discarded()
        self.jobs.put(None)
        self.thread.join()
        if not discard:
            self.wait()

    def _run(self) -> None:
        cursor = self.dbapi.cursor()
        try:
            while (job := self.jobs.get()) is not None:
                if self.error is None:
                    try:
                        for sql, params in job:
                            cursor.execute(sql, params)
                    except BaseException as exc:  # handed to the planning thread
                        with self.done:
                            self.error = exc
                with self.done:
                    self.pending -= 1
                    self.done.notify_all()
        finally:
            cursor.close()


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


class _Discarded(Exception):
    """The batch failed elsewhere; the jobs still queued were dropped."""


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
    return (
        f"INSERT INTO {_quoted(table.name)} ({', '.join(map(_quoted, order))}) VALUES "
        + ",".join([row] * n)
    )


@contextmanager
def write_behind(session: Session, id_tables: Sequence[Table] = ()) -> Iterator[None]:
    """Within the block, ``insert_rows`` and ``insert_returning_ids`` of SQLite hand their rows
    to a :class:`WriteBehind` thread; PostgreSQL's writes go to its own thread
    (``hub.core.postgres.behind``). The block ends when every write is done."""
    if is_postgres(session):  # PostgreSQL's own (hub.core.postgres.behind)
        with postgres.write_behind(session):
            yield
        return
    if not is_sqlite(session) or _behind.get() is not None:
        yield
        return
    behind = WriteBehind(session, id_tables)
    token = _behind.set(behind)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield
    except BaseException:
        behind.close(discard=True)
        raise
    else:
        behind.close()
    finally:
        sys.setswitchinterval(interval)
        _behind.reset(token)


# How soon the planning thread yields the GIL to the writer whose statement has finished.
SWITCH_INTERVAL = 0.0002


def _wait_for_write_behind(*_args: Any) -> None:
    """Any statement through SQLAlchemy waits for the writes handed to the thread (listens on
    an engine from its first write-behind on)."""
    if (behind := _behind.get()) is not None:
        behind.wait()


# ---------------------------------------------------------------- snapshot reads (SQLite)


class Ready:
    """A result already at hand, with the ``result()`` of a future."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


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
    path = bind.url.database
    if bind.dialect.name != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return None
    if session.connection().connection.dbapi_connection.in_transaction:
        return None
    return SnapshotReader(path)
