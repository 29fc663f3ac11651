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
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.core.store.sql import fetch_by, insert_returning_ids, insert_rows, write_behind
from hub.extensions import db
from hub.models import Tag, Workspace


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
