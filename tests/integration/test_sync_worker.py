"""X2 with real processes: a real RQ worker (``python -m hub.sync.worker``) killed with
SIGKILL in the middle of a sync; a new worker and a new request finish the run exactly."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hub.extensions import db
from hub.models import Connection, SyncRun, utcnow
from hub.sync import engine, service
from tests.support.fake_platform import add_connection, content, make_orders, write_orders
from tests.support.workers import Workers, kill_all, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def start_worker(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Callable]:
    workers = Workers(
        tmp_path, database_url, redis_url,
        CONNECTORS="tests.support.fake_platform:FakeConnector",
        SYNC_HEARTBEAT_SECONDS=1,
        SYNC_STALE_SECONDS=600,  # the worker must not resume the run: the request does
        AUTOSYNC_TICK_SECONDS=3600,
    )  # fmt: skip
    yield lambda name: workers.start(name, "sync")
    workers.close()


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
