"""PostgreSQL's write-behind (hub.core.postgres.behind, through hub.core.store.sql.write_behind):
inside the block the planning thread hands its inserts over and goes on while the server
works on them; reads of a table see every write handed over before; a failed write fails
the block and the rollback leaves nothing.

Always on PostgreSQL: the suite's server on the PostgreSQL pass (``postgres_url``), else a
throwaway server of this module's own (initdb + pg_ctl), so the SQLite run tests it too."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.core import ingest
from hub.core.batch import ORDERS_PER_CHUNK
from hub.core.postgres import new_ids
from hub.core.postgres.columns import NEW_IDS_SQL
from hub.core.store.sql import fetch_by, insert_returning_ids, insert_rows, write_behind
from hub.extensions import db
from hub.models import Customer, Order, Tag, Workspace
from tests.support.orders import shop_batch


def _pg_bin() -> Path:
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]


@pytest.fixture(scope="module")
def pg_server(postgres_url: str | None) -> Iterator[str]:
    """A PostgreSQL URL: the suite's, or a throwaway server's (as scripts/test.sh starts)."""
    if postgres_url:
        yield postgres_url
        return
    # Under /tmp, not pytest's base directory: that one is private (0700) to this user, and
    # the server runs as postgres when the tests run as root.
    work = Path(tempfile.mkdtemp(prefix="hub-test-pg-"))
    work.chmod(0o755)
    data = work / "data"
    root = os.getuid() == 0
    as_pg = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(work, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bin_ = _pg_bin()
    subprocess.run([*as_pg, bin_ / "initdb", "-D", data, "-U", "postgres", "-A", "trust",
                    "--no-sync"], check=True, capture_output=True)  # fmt: skip
    subprocess.run([*as_pg, bin_ / "pg_ctl", "-D", data, "-l", work / "log", "-w", "start", "-o",
                    f"-h 127.0.0.1 -p {port} -k {work} -c fsync=off"],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_pg, bin_ / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def pg(pg_server: str) -> Iterator[tuple[Session, int, str]]:
    """A session on a fresh schema of the hub, a workspace, and the plain psycopg URL."""
    engine = create_engine(pg_server)
    db.metadata.drop_all(engine)
    db.metadata.create_all(engine)
    session = Session(engine)
    ws = Workspace(name="w", slug="w")
    session.add(ws)
    session.commit()
    try:
        yield (
            session,
            ws.id,
            make_url(pg_server).set(drivername="postgresql").render_as_string(False),
        )
    finally:
        session.close()
        db.metadata.drop_all(engine)
        engine.dispose()


def tag_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Tag))


def test_the_planning_thread_goes_on_while_the_server_writes_what_it_handed_over(pg):
    session, ws, plain = pg
    # Another transaction holds a lock that keeps any insert into tags waiting until it ends.
    other = psycopg.connect(plain)
    other.execute("LOCK TABLE tags IN SHARE MODE")
    release = threading.Timer(3.0, other.rollback)
    release.start()
    try:
        with write_behind(session):
            started = time.monotonic()
            insert_rows(session, Tag.__table__, ("workspace_id", "name"),
                        [(ws, f"t{i}") for i in range(2000)])  # fmt: skip
            handed_over = time.monotonic() - started
        done = time.monotonic() - started
    finally:
        release.join()
        other.close()
    assert handed_over < 1.5, f"insert_rows waited {handed_over:.1f}s for the server"
    assert done >= 2.5  # the block's end waited for the write
    session.commit()
    assert tag_count(session) == 2000


def test_reads_and_ids_inside_the_block_see_every_write_handed_over(pg):
    session, ws, _ = pg
    with write_behind(session):
        ids = insert_returning_ids(session, Tag.__table__, ("workspace_id", "name"),
                                   [(ws, f"a{i}") for i in range(3000)])  # fmt: skip
        found = fetch_by(session, Tag.__table__, ["id", "name"], "name",
                         [f"a{i}" for i in range(3000)], workspace_id=ws)  # fmt: skip
        assert {(r.id, r.name) for r in found} == {(id_, f"a{i}") for i, id_ in enumerate(ids)}
        insert_rows(session, Tag.__table__, ("workspace_id", "name"), [(ws, "b")])
        assert tag_count(session) == 3001  # through SQLAlchemy: waits for the thread too
    session.commit()
    assert tag_count(session) == 3001


def test_a_failed_write_fails_the_block_and_the_rollback_leaves_nothing(pg):
    session, ws, _ = pg
    with pytest.raises(psycopg.errors.UniqueViolation), write_behind(session):
        insert_rows(session, Tag.__table__, ("workspace_id", "name"),
                    [(ws, f"t{i}") for i in range(100)])  # fmt: skip
        insert_rows(session, Tag.__table__, ("workspace_id", "name"), [(ws, "t7")])  # again
        insert_rows(session, Tag.__table__, ("workspace_id", "name"), [(ws, "after")])
    session.rollback()
    assert tag_count(session) == 0
    # the session's connection is usable again
    insert_rows(session, Tag.__table__, ("workspace_id", "name"), [(ws, "x")])
    session.commit()
    assert tag_count(session) == 1


def test_an_error_while_planning_drops_the_queued_writes(pg):
    session, ws, _ = pg
    with pytest.raises(RuntimeError, match="planning"), write_behind(session):
        insert_rows(session, Tag.__table__, ("workspace_id", "name"),
                    [(ws, f"t{i}") for i in range(5000)])  # fmt: skip
        raise RuntimeError("planning failed")
    session.rollback()
    assert tag_count(session) == 0
    assert not [t for t in threading.enumerate() if t.name == "hub-pg-write-behind"]


def _buyers(batch: list) -> int:
    return len({rec.buyer.identities[0] for rec in batch})


def _customers_and_orders(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Customer)),
        session.scalar(select(func.count()).select_from(Order)),
    )


def test_a_batch_plans_every_chunk_while_its_first_writes_wait_for_the_server(pg):
    """Planning needs buyers' owners and new ids; it takes them on a side connection, not
    on the session's connection that the write-behind thread holds while the server works."""
    session, ws, plain = pg
    batch = shop_batch(0, 3 * ORDERS_PER_CHUNK, 400)
    # Another transaction keeps any insert into events waiting: the first chunk's events.
    other = psycopg.connect(plain)
    other.execute("LOCK TABLE events IN SHARE MODE")
    drawn: list[int] = []

    def watch() -> None:  # how many order ids planning drew, then let the writes go on
        try:
            with psycopg.connect(plain, autocommit=True) as con:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    (n,) = con.execute(
                        "SELECT last_value FROM orders_id_seq WHERE is_called"
                    ).fetchone() or (0,)
                    drawn.append(n)
                    if n >= len(batch):
                        break
                    time.sleep(0.05)
        finally:
            other.rollback()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = ingest.apply(session, ws, batch)
    finally:
        watcher.join()
        other.close()
    assert drawn[-1] == len(batch), "planning waited for the first chunk's writes"
    assert result.counts["orders"]["created"] == len(batch)
    assert _customers_and_orders(session) == (_buyers(batch), len(batch))


def test_a_batch_after_uncommitted_writes_of_its_transaction_still_finds_their_buyers(pg):
    """The side connection sees only what is committed: a transaction that already wrote (an
    earlier batch applied with commit=False) reads its buyers through the session instead."""
    session, ws, _ = pg
    first, second = shop_batch(0, 500, 300), shop_batch(500, 2 * ORDERS_PER_CHUNK, 300)
    ingest.apply(session, ws, first, commit=False)
    ingest.apply(session, ws, second)
    # every buyer of the second batch found, none created twice
    assert _customers_and_orders(session) == (_buyers(first + second), len(first + second))


def test_no_index_on_postgresql_repeats_a_unique_key_every_insert_already_pays_for(pg):
    """An index whose leading columns are a unique key's serves no lookup that key's own
    index does not: on PostgreSQL it only makes every insert write one more entry."""
    session, ws, _ = pg
    rows = session.execute(
        text(
            "SELECT t.relname, i.indisunique, "
            "array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o) "
            "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = 'public'"
        )
    ).all()
    unique = [(table, cols) for table, is_unique, cols in rows if is_unique]
    repeats = [
        (table, cols)
        for table, is_unique, cols in rows
        if not is_unique and any(t == table and cols[: len(key)] == key for t, key in unique)
    ]
    assert repeats == []
    # identity resolution's owner lookup is answered by the unique key's index
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = session.execute(
        text(
            "EXPLAIN SELECT i.value, i.customer_id FROM unnest(ARRAY['a']::varchar[]) AS k(value) "
            "JOIN identities AS i ON i.workspace_id = 1 AND i.type = 'mobile' "
            "AND i.value = k.value"
        )
    ).scalars()
    assert "uq_identities_workspace_id_type_value" in "\n".join(plan)


def test_new_ids_look_their_sequence_up_once_per_statement_not_once_per_id(pg):
    """``pg_get_serial_sequence`` scans pg_depend: evaluated for every id drawn it cost 25
    times nextval itself. In the draw's plan it is computed by a one-row node, once, and the
    per-id scan only calls nextval on its result (main's plan evaluated it in the scan)."""
    session, _, _ = pg
    ids = new_ids(session, Tag.__table__, 500)
    assert len(set(ids)) == 500
    cur = session.connection().connection.dbapi_connection.cursor()
    try:
        plan = cur.execute(
            f"EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, FORMAT JSON) {NEW_IDS_SQL}",
            ('"tags"', 2_000),
        ).fetchone()[0][0]["Plan"]
    finally:
        cur.close()

    def nodes(node: dict) -> list[dict]:
        return [node, *(n for child in node.get("Plans", []) for n in nodes(child))]

    looked_up = [n for n in nodes(plan) if "pg_get_serial_sequence" in " ".join(n.get("Output", []))
                 and "nextval" not in " ".join(n.get("Output", []))]  # fmt: skip
    assert [(n["Actual Rows"], n["Actual Loops"]) for n in looked_up] == [(1, 1)], plan
    scan = [n for n in nodes(plan) if n["Node Type"] == "Function Scan"]
    assert len(scan) == 1 and scan[0]["Actual Rows"] == 2_000
    assert "pg_get_serial_sequence" not in " ".join(scan[0].get("Output", [])), plan
