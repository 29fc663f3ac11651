"""X2 with real processes: a real RQ worker (``python -m hub.jobs.worker``) killed with
SIGKILL again and again in the middle of a sync, while it holds many pages read ahead of the
batches it applied; each time a new worker and a new request resume the run, and at the end
the whole workspace equals an uninterrupted sync of the same data into another workspace."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from flask import current_app

from connectors.sandbox_serving import serve
from connectors.youzan.sandbox import create_app as create_sandbox
from connectors.youzan.sandbox import demo_bind_config
from hub.extensions import db
from hub.models import Connection, SyncRun, utcnow
from hub.processes import session_members
from hub.services import connections
from hub.sync import engine, service
from tests.conftest import ENCRYPTION_KEY, TEST_CONNECTORS
from tests.support.dump import difference, workspace_dump
from tests.support.fake_platform import add_connection, make_orders, write_orders

ROOT = Path(__file__).resolve().parents[2]
YOUZAN = "connectors.youzan.connector:YouzanConnector"
KILLS = 5
MIN_KILLS = 3
# Workers read up to 400 pages ahead and apply them in batches of a test's number of records
# (no batch is cut by time), so a kill lands with many pages read and not applied.
READ_AHEAD = 400
pytestmark = pytest.mark.slow


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [*TEST_CONNECTORS, YOUZAN], "SYNC_STALE_SECONDS": 2}


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
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
        "HUB_CONNECTORS": ",".join([*TEST_CONNECTORS, YOUZAN]),
        "HUB_SYNC_HEARTBEAT_SECONDS": "1",
        "HUB_ALLOW_PRIVATE_PLATFORMS": "true",
        "HUB_SYNC_STALE_SECONDS": "600",  # the worker must not resume at start: the request does
        "HUB_AUTOSYNC_TICK_SECONDS": "3600",
        "HUB_SYNC_READ_AHEAD": str(READ_AHEAD),
        "HUB_SYNC_BATCH_SECONDS": "600",
        "PYTHONPATH": str(ROOT),
    }

    def start(name: str, batch: int) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub.jobs.worker", "sync"],
            cwd=ROOT, env={**env, "HUB_SYNC_BATCH_RECORDS": str(batch)},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
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


@dataclass
class Kill:
    done: int  # records committed when the worker was killed
    ahead: int | None  # orders the platform had served to that worker and it had not applied


def sync_killed(
    conn: Connection, start_worker: Callable, batch: int, served: ServedOrders | None = None
) -> tuple[SyncRun, list[Kill]]:
    """Sync ``conn`` on worker processes, SIGKILLing the worker KILLS times, each kill
    followed by a resume on a new worker. A worker is killed once it committed a batch and,
    when the platform counts the orders it serves, with ``served.ahead`` orders read ahead."""
    run = service.request_sync(conn.workspace_id, conn.id)
    kills: list[Kill] = []
    due = Due(run.id, batch, served)
    worker = start_worker("worker-0", batch)
    for n in range(KILLS):
        wait_for(due, 60, "a batch committed with pages read far ahead")
        kill_all(worker)  # the worker, its scheduler and its work horse
        if fresh_run(run.id).status in SyncRun.FINISHED:
            break  # the run ended before this kill: nothing left to resume
        kills.append(Kill(fresh_run(run.id).progress_done, due.ahead))
        worker = start_worker(f"worker-{n + 1}", batch)  # it starts while the run goes stale
        if n == 0:  # a request while the killed worker's heartbeat is fresh joins the run
            assert service.request_sync(conn.workspace_id, conn.id).id == run.id
        wait_for(lambda: service.is_stale(fresh_run(run.id)), 30, "the killed run to go stale")
        due = Due(run.id, batch, served)
        resumed = service.request_sync(conn.workspace_id, conn.id)
        assert (resumed.id, resumed.trigger) == (run.id, "resume")
        assert resumed.job_id == f"sync-run-{run.id}-{n + 2}"  # a new job for each attempt
    wait_for(lambda: fresh_run(run.id).status in SyncRun.FINISHED, 60, "the resumed run")
    kill_all(worker)  # it would take the uninterrupted sync's job too
    return fresh_run(run.id), kills


class Due:
    """Whether to kill the worker now: the run finished, or this worker committed a batch
    and (when counted) has ``served.ahead`` orders or more read and not applied."""

    def __init__(self, run_id: int, batch: int, served: ServedOrders | None) -> None:
        self.run_id, self.batch, self.served = run_id, batch, served
        self.start = fresh_run(run_id).progress_done or 0
        self.served_before = served.count if served else 0
        self.ahead: int | None = None

    def __call__(self) -> bool:
        run = fresh_run(self.run_id)
        committed = (run.progress_done or 0) - self.start
        if self.served is not None:
            self.ahead = self.served.count - self.served_before - committed
        if run.status in SyncRun.FINISHED:
            return True
        return committed >= self.batch and (self.served is None or self.ahead >= self.served.ahead)


def sync_here(conn: Connection, batch: int) -> SyncRun:
    """An uninterrupted sync in the test process, with the workers' settings."""
    current_app.config.update(
        SYNC_READ_AHEAD=READ_AHEAD, SYNC_BATCH_RECORDS=batch, SYNC_BATCH_SECONDS=600
    )
    run = service.request_sync(conn.workspace_id, conn.id)
    assert engine.execute(run.id, job_id=run.job_id) == "succeeded"
    return fresh_run(run.id)


def test_x2_fake_store_killed_five_times_equals_an_uninterrupted_sync(
    app, workspace, other_workspace, tmp_path, start_worker
):
    """The fake connector yields one state dict and updates it in place for every page (as a
    careless connector would): the engine must commit each batch with the position after its
    own last record all the same."""
    rows = make_orders(2000, start=utcnow() - timedelta(days=20), buyers=40)
    rows[7]["status"] = "completed"
    data_a, data_b = tmp_path / "a.json", tmp_path / "b.json"
    write_orders(data_a, rows)
    shutil.copy(data_a, data_b)
    settings = {"store_id": "S", "page_size": 5, "shared_state": True}  # one shop, bound twice
    killed = add_connection(workspace.id, data_a, store="A", **settings)
    calm = add_connection(other_workspace.id, data_b, store="B", **settings)

    final, kills = sync_killed(killed, start_worker, 100)
    assert final.status == "succeeded", final.error_message
    assert sync_here(calm, 100).progress_done == 2000
    want, got = (
        workspace_dump(db.session, other_workspace.id),
        workspace_dump(db.session, workspace.id),
    )
    assert len(want["orders"]) == 2000 and len(want["order_lines"]) == 4000
    assert got == want, difference(got, want)  # nothing lost, nothing doubled
    # a loaded machine may finish the run before the last kills: three points at least
    assert len(kills) >= MIN_KILLS and final.attempts == len(kills) + 1, kills
    assert [k.done for k in kills] == sorted({k.done for k in kills})  # five points
    assert final.progress_done == 2000  # each resume went on after the last commit
    assert db.session.get(Connection, killed.id).active_run_id is None


class ServedOrders:
    """Counts the orders a sandbox's order searches served (WSGI middleware); ``ahead`` is
    how many of them a worker must hold unapplied when it is killed."""

    def __init__(self, wsgi_app: Callable, ahead: int) -> None:
        self.wsgi_app, self.ahead = wsgi_app, ahead
        self.count, self.lock = 0, threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        body = self.wsgi_app(environ, start_response)
        if not environ.get("PATH_INFO", "").startswith("/api/youzan.trades.sold.get/"):
            return body
        try:
            text = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        data = orjson.loads(text).get("data") or {}
        with self.lock:
            self.count += len(data.get("full_order_info_list") or [])
        return [text]


@pytest.fixture
def sandbox() -> Iterator[tuple[str, ServedOrders]]:
    """A Youzan sandbox over real HTTP: 2,500 orders over the last 1,700 days, some 130 in
    each of the stream's 3-month windows (a store syncing 1,825 days back reads 21)."""
    app = create_sandbox(seed=20, orders=0)
    app.extensions["youzan_sandbox"].shop.generate(2500, days=1700)
    served = ServedOrders(app.wsgi_app, ahead=300)  # more than two windows
    app.wsgi_app = served
    running = serve(app)
    yield running.url, served
    running.stop()


def test_x2_youzan_store_killed_five_times_equals_an_uninterrupted_sync(
    app, workspace, other_workspace, start_worker, sandbox
):
    """Every kill lands with 300 orders or more read and not applied, more than two 3-month
    windows hold: the reader has left the window of the last committed page behind."""
    url, served = sandbox
    config = {**demo_bind_config(url), "backoff_seconds": 0.01, "initial_days": 1825}
    killed = connections.bind(workspace.id, "youzan", config)

    final, kills = sync_killed(killed, start_worker, 200, served)
    assert final.status == "succeeded", final.error_message
    connections.unbind(workspace.id, killed.id)  # a store is bound to one workspace at a time
    calm = connections.bind(other_workspace.id, "youzan", config)
    sync_here(calm, 200)
    want, got = (
        workspace_dump(db.session, other_workspace.id),
        workspace_dump(db.session, workspace.id),
    )
    assert len(want["orders"]) > 2000 and len(want["order_refunds"]) > 60
    assert got == want, difference(got, want)  # nothing lost, nothing doubled
    # a kill waits for 300 orders read ahead, which a loaded machine (both CI passes at once)
    # reaches late in the run: two points at least here, each a SIGKILL and a resume
    assert len(kills) >= 2 and final.attempts == len(kills) + 1, kills
    assert all(k.ahead >= served.ahead for k in kills), kills
