"""A sync run whose RQ job raised before the run ended (here: before it marked the run
running) is failed by the workers' maintenance pass with a plain message, and ``hub sync ID
--wait`` stops with that message, instead of the run waiting (and being resumed, to raise
again) for ever. A run whose job died with its work horse is X2's: resumed, never failed.
Real RQ: the job runs in RQ's worker (in the test process, or in a forked work horse)."""

from __future__ import annotations

import json
import os
import signal
from datetime import timedelta
from types import SimpleNamespace

import pytest
from rq import Worker
from rq.job import Job, JobStatus
from sqlalchemy import select

from hub.extensions import db, redis_connection
from hub.jobs.maintenance import Maintenance, RedisWatch
from hub.jobs.queues import QUEUES, SYNC, queue
from hub.models import Connection, SyncRun, utcnow
from hub.sync import engine, service
from tests.support.burst import BurstWorker
from tests.support.fake_platform import add_connection, make_orders, write_orders

MESSAGE = (
    "the sync job stopped with an error before the run finished: "
    "RuntimeError: the database went away before the run was marked"
)


@pytest.fixture
def conn(workspace, tmp_path):
    data = tmp_path / "orders.json"
    write_orders(data, make_orders(5, start=utcnow() - timedelta(days=1)))
    made = add_connection(workspace.id, data)
    return SimpleNamespace(id=made.id, workspace_id=made.workspace_id)  # the job ends sessions


def raise_before_marking(_run: SyncRun) -> None:
    raise RuntimeError("the database went away before the run was marked")


def fresh(run_id: int) -> SyncRun:
    db.session.rollback()
    return db.session.get(SyncRun, run_id, populate_existing=True)


def maintenance_pass(app) -> None:
    redis_connection().delete("hub:maintenance:lease")  # each pass of the test runs its duties
    Maintenance(app, QUEUES, RedisWatch(redis_connection())).run_pass()


def test_a_run_whose_job_raised_before_marking_it_is_failed_by_the_maintenance_pass(
    app, conn, monkeypatch
):
    run = service.request_sync(conn.workspace_id, conn.id)
    monkeypatch.setattr(engine, "_begin", raise_before_marking)
    BurstWorker([queue(SYNC)], connection=redis_connection()).work(burst=True)
    job = Job.fetch(run.job_id, connection=redis_connection())
    assert job.get_status() == JobStatus.FAILED
    assert fresh(run.id).status == "queued"  # the job never marked it: it would wait for ever

    maintenance_pass(app)
    failed = fresh(run.id)
    assert (failed.status, failed.error_class, failed.error_message) == (
        "failed", "system", MESSAGE
    )  # fmt: skip
    assert failed.finished_at is not None and failed.job_id == run.job_id  # not resumed
    assert db.session.get(Connection, conn.id).active_run_id is None  # the store is free
    monkeypatch.undo()
    again = service.request_sync(conn.workspace_id, conn.id)  # a new run, which works
    assert again.id != run.id
    assert engine.execute(again.id, job_id=again.job_id) == "succeeded"


def test_sync_wait_stops_with_the_message_when_the_job_raised(app, conn, runner, monkeypatch):
    run = service.request_sync(conn.workspace_id, conn.id)
    monkeypatch.setattr(engine, "_begin", raise_before_marking)
    BurstWorker([queue(SYNC)], connection=redis_connection()).work(burst=True)
    # `hub sync ID --wait` joins the run (its job failed seconds ago) and must not wait for ever
    monkeypatch.setattr(service, "HANDOVER_GRACE_SECONDS", 600)
    result = runner.invoke(args=["hub", "sync", str(conn.id), "--wait", "--timeout", "30",
                                 "--json"])  # fmt: skip
    assert result.exit_code != 0
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["error"]["code"] == "sync_failed", out
    assert out["error"]["message"] == f"sync run {run.id} failed (system): {MESSAGE}"
    assert fresh(run.id).status == "failed"


class ForkingWorker(Worker):
    """RQ's own worker (each job in a forked work horse), without the command listener."""

    def subscribe(self) -> None:
        self.pubsub_thread = None


def kill_the_horse(_run: SyncRun) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_run_whose_work_horse_was_killed_is_resumed_not_failed(app, conn, monkeypatch):
    run = service.request_sync(conn.workspace_id, conn.id)
    monkeypatch.setattr(engine, "_begin", kill_the_horse)  # the horse inherits it
    ForkingWorker([queue(SYNC)], connection=redis_connection()).work(burst=True)
    job = Job.fetch(run.job_id, connection=redis_connection())
    assert job.get_status() == JobStatus.FAILED
    assert "terminated unexpectedly" in job.latest_result().exc_string
    maintenance_pass(app)
    assert fresh(run.id).status == "queued"  # X2: a killed worker's run is not failed
    stale = fresh(run.id)
    stale.heartbeat_at = utcnow() - timedelta(seconds=service.HANDOVER_GRACE_SECONDS + 1)
    db.session.commit()
    maintenance_pass(app)
    resumed = fresh(run.id)
    assert (resumed.status, resumed.job_id) == ("queued", f"sync-run-{run.id}-2")
    monkeypatch.undo()
    assert engine.execute(run.id, job_id=resumed.job_id) == "succeeded"
    assert db.session.scalar(select(SyncRun.status).where(SyncRun.id == run.id)) == "succeeded"
