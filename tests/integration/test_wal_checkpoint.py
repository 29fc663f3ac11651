"""Background WAL checkpoints (hub.core.sqlite.checkpoint): after an ingest commit on SQLite the
batch's pages reach the database file without a checkpoint in the committing thread, the WAL
is started again instead of growing, the thread ends when idle, and a failure is logged, not
raised into the ingest.

The checkpointer exists only on SQLite, so these tests use a SQLite database of their own in
both runs of the suite."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hub.core import ingest
from hub.core.sqlite import checkpoint
from tests.support.orders import shop_batch


@pytest.fixture
def sqlite_session(sqlite_file_session: tuple[Session, int, Path]) -> tuple[Session, int, Path]:
    path = sqlite_file_session[2]
    con = sqlite3.connect(path)  # the schema into the file, so a copy of it can be read
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return sqlite_file_session


def checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hub-wal-checkpoint"]


def orders_in_file_alone(path: Path, tmp_path: Path) -> int:
    """Orders readable from the database file without its WAL (a copy of the file alone)."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    con = sqlite3.connect(copy)
    try:
        return con.execute("SELECT count(*) FROM orders").fetchone()[0]
    finally:
        con.close()


def test_the_batch_reaches_the_database_file_without_a_checkpoint_in_the_commit(
    sqlite_session, tmp_path
):
    """The batch is far below the automatic checkpoint's 16,384 pages, so only the background
    checkpoint can have copied it out of the WAL."""
    session, ws, path = sqlite_session
    ingest.apply(session, ws, shop_batch(0, 300, 100))
    assert checkpoint.wait_idle()
    assert orders_in_file_alone(path, tmp_path) == 300


def test_without_the_request_the_batch_stays_in_the_wal(sqlite_session, tmp_path, monkeypatch):
    """The control for the test above: the copy of the file alone lacks the batch."""
    session, ws, path = sqlite_session
    monkeypatch.setattr(checkpoint, "checkpoint_soon", lambda session: None)
    ingest.apply(session, ws, shop_batch(0, 300, 100))
    assert orders_in_file_alone(path, tmp_path) == 0


@pytest.mark.parametrize("background", [True, False], ids=["checkpointed", "control"])
def test_the_wal_is_started_again_rather_than_growing(sqlite_session, monkeypatch, background):
    """Five batches: with the background checkpoint each is written from the WAL's start
    again, so the file stays about one batch long; without it (the control) the WAL holds all
    five, as the automatic checkpoint waits for 16,384 pages."""
    session, ws, path = sqlite_session
    if not background:
        monkeypatch.setattr(checkpoint, "checkpoint_soon", lambda session: None)
    wal = Path(f"{path}-wal")
    sizes = []
    for start in range(0, 2000, 400):
        ingest.apply(session, ws, shop_batch(start, 400, 300))
        assert checkpoint.wait_idle()
        sizes.append(wal.stat().st_size)
    if background:
        assert sizes[-1] < 1.5 * sizes[0]
    else:
        assert sizes[-1] > 4 * sizes[0]


def test_the_thread_ends_when_idle_and_a_later_commit_starts_another(
    sqlite_session, tmp_path, monkeypatch
):
    session, ws, path = sqlite_session
    monkeypatch.setattr(checkpoint, "IDLE_SECONDS", 0.05)
    ingest.apply(session, ws, shop_batch(0, 50, 20))
    assert checkpoint.wait_idle()
    for thread in checkpointers():
        thread.join(timeout=5)
    assert checkpointers() == []
    ingest.apply(session, ws, shop_batch(50, 50, 20))
    assert checkpoint.wait_idle()
    assert orders_in_file_alone(path, tmp_path) == 100


def test_a_failed_checkpoint_is_logged_and_not_raised(tmp_path, caplog):
    """A database file that cannot be opened: the error is logged, the thread ends, and the
    commit's own automatic checkpoint remains the fallback."""
    not_a_database = tmp_path / "folder"
    not_a_database.mkdir()
    worker = checkpoint._Checkpointer(str(not_a_database))
    with caplog.at_level(logging.ERROR, logger="hub.core.sqlite.checkpoint"):
        worker.start()
        worker.thread.join(timeout=5)
    assert worker.stopped
    assert "background WAL checkpoint" in caplog.text


def test_a_forked_child_starts_with_no_checkpointer_of_its_parent(sqlite_session):
    """An RQ work horse is forked: the parent's thread does not exist there, so the child must
    not count on it (nor on a lock another thread may have held at the fork)."""
    session, ws, _ = sqlite_session
    ingest.apply(session, ws, shop_batch(0, 10, 5))
    assert checkpoint._running
    pid = os.fork()
    if pid == 0:  # the child: report and leave at once
        os._exit(0 if not checkpoint._running and not checkpoint._lock.locked() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
