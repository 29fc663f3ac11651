"""X2 with real processes: a real RQ worker (``python -m hub.sync.worker``) killed with
SIGKILL in the middle of a sync; a new worker and a new request finish the run exactly."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hub.extensions import db
from hub.models import Connection, SyncRun, utcnow
from hub.processes import session_members
from hub.sync import engine, service
from tests.conftest import ENCRYPTION_KEY
from tests.support.fake_platform import add_connection, content, make_orders, write_orders

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def start_worker(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Callable]:
    procs: list[subprocess.Popen] = []
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
        "HUB_DATABASE_URL": database_url,
        "HUB_REDIS_URL": redis_url,
        "HUB_SECRET_KEY": "test-secret-key",
        "HUB_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "HUB_CONNECTORS": "tests.support.fake_platform:FakeConnector",
        "HUB_SYNC_HEARTBEAT_SECONDS": "1",
        "HUB_ALLOW_PRIVATE_PLATFORMS": "true",
        "HUB_SYNC_STALE_SECONDS": "600",  # the worker must not resume at start: the request does
        "HUB_AUTOSYNC_TICK_SECONDS": "3600",
        "PYTHONPATH": str(ROOT),
    }

    def start(name: str) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub.sync.worker", "sync"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            kill_all(proc)


def kill_all(proc: subprocess.Popen) -> None:
    """SIGKILL the worker, its scheduler and its work horse: all of the session it was started
    in (the work horse has a process group of its own, not a session)."""
    for pid in session_members(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(10)


def fresh_run(run_id: int) -> SyncRun:
    db.session.rollback()
    return db.session.get(SyncRun, run_id, populate_existing=True)


def test_x2_worker_killed_mid_sync_resumes_exactly(
    app, workspace, other_workspace, tmp_path, start_worker
):
    rows = make_orders(60, start=utcnow() - timedelta(days=20), buyers=7)
    rows[7]["status"] = "completed"
    data_a, data_b = tmp_path / "a.json", tmp_path / "b.json"
    write_orders(data_a, rows)
    shutil.copy(data_a, data_b)
    killed = add_connection(workspace.id, data_a, store="A", page_size=5, page_delay=0.25)
    calm = add_connection(other_workspace.id, data_b, store="B", page_size=5)

    worker = start_worker("first")
    run = service.request_sync(workspace.id, killed.id)
    wait_for(lambda: fresh_run(run.id).progress_done >= 15, 60, "three pages committed")
    kill_all(worker)  # the worker, its scheduler and its work horse, mid-page
    done_at_kill = fresh_run(run.id).progress_done
    assert fresh_run(run.id).status == "running" and done_at_kill < 60

    start_worker("second")
    stale = app.config["SYNC_STALE_SECONDS"]
    assert service.request_sync(workspace.id, killed.id).id == run.id  # joined: not stale yet
    time.sleep(stale + 1.5)
    resumed = service.request_sync(workspace.id, killed.id)
    assert (resumed.id, resumed.trigger) == (run.id, "resume")
    wait_for(lambda: fresh_run(run.id).status in SyncRun.FINISHED, 60, "the resumed run")
    final = fresh_run(run.id)
    assert final.status == "succeeded", final.error_message
    assert final.progress_done == 60 and final.attempts == 2

    calm_run = service.request_sync(other_workspace.id, calm.id)
    assert engine.execute(calm_run.id, job_id=calm_run.job_id) == "succeeded"
    got, want = content(workspace.id), content(other_workspace.id)
    assert len(want["orders"]) == 60 and len(want["lines"]) == 120
    assert len(want["events"]) == 60
    assert got == want  # nothing lost, nothing doubled
    assert db.session.get(Connection, killed.id).active_run_id is None
