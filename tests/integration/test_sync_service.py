"""Requesting syncs: one run per store (CAS), joins, refusals (Y5), stale runs, auto-sync."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from rq.job import Job
from sqlalchemy import func, select

from hub.core.errors import Conflict, NotFound
from hub.extensions import db, redis_connection
from hub.jobs import schedule
from hub.jobs.maintenance import EPOCH_KEY, TICK_KEY, Maintenance, RedisWatch
from hub.jobs.queues import QUEUES
from hub.models import Connection, SyncRun, utcnow
from hub.sync import engine, service
from tests.support.fake_platform import add_connection, make_orders, write_orders


@pytest.fixture
def conn(workspace, tmp_path):
    data = tmp_path / "orders.json"
    write_orders(data, make_orders(5, start=utcnow() - timedelta(days=1)))
    return add_connection(workspace.id, data)


def runs() -> int:
    return db.session.scalar(select(func.count(SyncRun.id)))


def test_a_request_enqueues_a_job_named_after_the_run(conn):
    run = service.request_sync(conn.workspace_id, conn.id)
    assert (run.status, run.trigger, run.job_id) == ("queued", "manual", f"sync-run-{run.id}")
    job = Job.fetch(run.job_id, connection=redis_connection())
    assert job.func_name == "hub.sync.jobs.run_sync" and job.args == (run.id,)
    assert job.origin == "sync"


def test_a_second_request_joins_the_running_run(conn):
    first = service.request_sync(conn.workspace_id, conn.id)
    second = service.request_sync(conn.workspace_id, conn.id, full=True)
    assert second.id == first.id and runs() == 1
    engine.execute(first.id, job_id=first.job_id)
    third = service.request_sync(conn.workspace_id, conn.id)
    assert third.id != first.id and runs() == 2


def test_two_simultaneous_sync_requests_produce_one_run(app, conn):
    barrier = threading.Barrier(4)
    got: list[int] = []
    errors: list[BaseException] = []

    def request() -> None:
        with app.app_context():
            try:
                barrier.wait()
                got.append(service.request_sync(conn.workspace_id, conn.id).id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(set(got)) == 1 and len(got) == 4
    assert runs() == 1
    assert db.session.get(Connection, conn.id, populate_existing=True).active_run_id == got[0]


def test_y5_disabled_store_refuses_sync(conn):
    conn.sync_mode = "disabled"
    db.session.commit()
    with pytest.raises(Conflict, match="sync is disabled for this store"):
        service.request_sync(conn.workspace_id, conn.id)
    assert runs() == 0
    assert service.request_sync_all(conn.workspace_id) == []


def test_unbound_store_refuses_sync(conn):
    conn.bound_key = None
    db.session.commit()
    with pytest.raises(Conflict, match="unbound"):
        service.request_sync(conn.workspace_id, conn.id)


def test_other_workspaces_store_is_not_found(conn, other_workspace):
    with pytest.raises(NotFound):
        service.request_sync(other_workspace.id, conn.id)
    assert runs() == 0


def test_y3_sync_all_bound_stores(workspace, tmp_path):
    data = tmp_path / "o.json"
    write_orders(data, [])
    a = add_connection(workspace.id, data, store="A")
    b = add_connection(workspace.id, data, store="B")
    add_connection(workspace.id, data, store="C", sync_mode="disabled")
    got = service.request_sync_all(workspace.id)
    assert [r.connection_id for r in got] == [a.id, b.id]


def test_stale_run_is_found_and_resumed(app, conn):
    run = service.request_sync(conn.workspace_id, conn.id)
    engine._begin(db.session.get(SyncRun, run.id))
    stale = utcnow() - timedelta(seconds=app.config["SYNC_STALE_SECONDS"] + 1)
    db.session.get(SyncRun, run.id).heartbeat_at = stale  # its worker died
    db.session.commit()
    again = service.request_sync(conn.workspace_id, conn.id)
    assert again.id == run.id
    assert (again.status, again.trigger, again.job_id) == (
        "queued",
        "resume",
        f"sync-run-{run.id}-2",
    )
    assert Job.exists(again.job_id, connection=redis_connection())
    assert engine.execute(run.id, job_id=f"sync-run-{run.id}") == "superseded"  # the old job
    assert engine.execute(run.id, job_id=again.job_id) == "succeeded"


def test_y5_autosync_fan_out_picks_due_connections_only(workspace, tmp_path):
    data = tmp_path / "o.json"
    write_orders(data, [])
    now = utcnow()
    due = add_connection(workspace.id, data, store="due", sync_mode="auto",
                         sync_interval_minutes=30)  # fmt: skip
    fresh = add_connection(workspace.id, data, store="fresh", sync_mode="auto",
                           sync_interval_minutes=30)  # fmt: skip
    never = add_connection(workspace.id, data, store="never", sync_mode="auto")
    manual = add_connection(workspace.id, data, store="manual")
    clamped = add_connection(
        workspace.id, data, store="clamped", sync_mode="auto", sync_interval_minutes=5
    )  # below 30: taken as 30
    due.last_sync_at = now - timedelta(minutes=31)
    fresh.last_sync_at = now - timedelta(minutes=29)
    manual.last_sync_at = now - timedelta(days=9)
    clamped.last_sync_at = now - timedelta(minutes=10)
    db.session.commit()
    result = schedule.tick(now)
    started = {db.session.get(SyncRun, rid).connection_id for rid in result["started"]}
    assert started == {due.id, never.id}
    assert all(db.session.get(SyncRun, r).trigger == "auto" for r in result["started"])
    assert schedule.tick(now)["started"] == []  # running ones are not requested twice
    assert fresh.id not in started and manual.id not in started


def test_maintenance_shares_the_schedule_and_recreates_it_when_redis_comes_back_empty(
    app, workspace, tmp_path
):
    """The periodic work lives in every worker's maintenance, not in a job Redis can lose:
    two workers' passes run the auto-sync fan-out once per period, and a Redis that lost its
    data only means the next pass runs it (and the inbox sweep) again."""
    data = tmp_path / "o.json"
    write_orders(data, [])
    auto = add_connection(
        workspace.id, data, store="auto", sync_mode="auto", sync_interval_minutes=30
    )  # never synced: due
    app.config["MAINTENANCE_SECONDS"] = 0.2  # each pass's lease
    one, two = (Maintenance(app, QUEUES, RedisWatch(redis_connection())) for _ in range(2))

    def auto_runs() -> list[SyncRun]:
        db.session.rollback()
        return list(db.session.scalars(select(SyncRun).where(SyncRun.trigger == "auto")))

    one.run_pass()
    two.run_pass()  # within the first pass's lease: does nothing
    assert len(auto_runs()) == 1
    first = auto_runs()[0]
    assert engine.execute(first.id, job_id=first.job_id) == "succeeded"
    db.session.get(Connection, auto.id).last_sync_at = utcnow() - timedelta(minutes=31)
    db.session.commit()  # due again, but the period has not passed
    time.sleep(0.3)
    two.run_pass()
    assert len(auto_runs()) == 1
    assert redis_connection().ttl(TICK_KEY) > 0

    redis_connection().flushdb()  # Redis restarted without its data
    time.sleep(0.3)
    one.run_pass()
    assert [r.status for r in auto_runs()] == ["succeeded", "queued"]
    assert redis_connection().exists(TICK_KEY, EPOCH_KEY) == 2
    assert Job.exists(auto_runs()[1].job_id, connection=redis_connection())
