"""The sync engine on a real database and a real Redis: windows (Y4), replays (X1), errors."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from hub.connectors import Page
from hub.extensions import db
from hub.jobs.queues import SYNC, queue
from hub.models import Connection, Cursor, Order, SyncRun, utcnow
from hub.sync import engine, service
from tests.support.fake_platform import (
    FakeOrders,
    add_connection,
    content,
    make_orders,
    write_orders,
)


@pytest.fixture
def data_file(tmp_path):
    return tmp_path / "orders.json"


def sync(conn: Connection, *, full: bool = False) -> SyncRun:
    """Request a sync and run it here, in the test process (the job in Redis is not needed)."""
    run = service.request_sync(conn.workspace_id, conn.id, full=full)
    engine.execute(run.id, job_id=run.job_id)
    return db.session.get(SyncRun, run.id, populate_existing=True)


def order_ids(workspace_id: int) -> set[str]:
    stmt = select(Order.external_id).where(Order.workspace_id == workspace_id)
    return set(db.session.scalars(stmt))


def cursor_state(conn: Connection) -> dict:
    return db.session.scalar(select(Cursor.state).where(Cursor.connection_id == conn.id))


def test_y4_first_sync_takes_365_days_and_stores_orders(workspace, data_file):
    now = utcnow()
    rows = make_orders(25, start=now - timedelta(days=300))
    rows += [{"id": "old", "updated_at": (now - timedelta(days=366)).isoformat(), "buyer": "x"}]
    write_orders(data_file, rows)
    conn = add_connection(workspace.id, data_file)
    run = sync(conn)
    assert run.status == "succeeded", run.error_message
    assert order_ids(workspace.id) == {r["id"] for r in rows[:25]}
    assert (run.progress_done, run.progress_total) == (25, 25)
    assert run.counts["orders"]["created"] == 25
    assert run.window_end is not None and run.finished_at >= run.window_end
    conn = db.session.get(Connection, conn.id, populate_existing=True)
    assert conn.active_run_id is None and conn.last_success_at == run.finished_at
    state = cursor_state(conn)
    assert state["bookmark"] == run.window_end.isoformat() and "run" not in state
    assert state["max_seen"] == [rows[24]["updated_at"], rows[24]["id"]]


def test_y4_initial_days_is_configurable_per_store(workspace, data_file):
    now = utcnow()
    write_orders(data_file, [
        {"id": "a", "updated_at": (now - timedelta(days=5)).isoformat()},
        {"id": "b", "updated_at": (now - timedelta(days=40)).isoformat()},
    ])  # fmt: skip
    conn = add_connection(workspace.id, data_file, initial_days=30)
    assert sync(conn).status == "succeeded"
    assert order_ids(workspace.id) == {"a"}


def test_y4_incremental_uses_bookmark_minus_lookback_inclusive(app, workspace, data_file):
    now = utcnow()
    write_orders(data_file, [{"id": "1", "updated_at": (now - timedelta(days=3)).isoformat()}])
    conn = add_connection(workspace.id, data_file)
    first = sync(conn)
    bookmark = first.window_end
    lookback = timedelta(hours=app.config["SYNC_LOOKBACK_HOURS"])
    late = bookmark - lookback  # exactly on the inclusive lower bound
    write_orders(data_file, [
        {"id": "edge", "updated_at": late.isoformat()},
        {"id": "too-old", "updated_at": (late - timedelta(seconds=1)).isoformat()},
        {"id": "new", "updated_at": (bookmark + timedelta(microseconds=1)).isoformat()},
    ])  # fmt: skip
    second = sync(conn)
    assert second.status == "succeeded"
    assert order_ids(workspace.id) == {"1", "edge", "new"}
    assert second.progress_done == 2


def test_window_is_capped_at_the_runs_start(workspace, data_file):
    """An order updated after the run started waits for the next run."""
    write_orders(data_file, make_orders(3, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file)
    run = service.request_sync(workspace.id, conn.id)
    engine._begin(db.session.get(SyncRun, run.id))  # the run starts: its cap is fixed
    cap = db.session.get(SyncRun, run.id).window_end
    rows = make_orders(3, start=utcnow() - timedelta(days=1))
    rows.append({"id": "after-start", "updated_at": (cap + timedelta(milliseconds=1)).isoformat()})
    write_orders(data_file, rows)
    assert engine.execute(run.id, job_id=run.job_id) == "succeeded"
    assert "after-start" not in order_ids(workspace.id)
    time.sleep(0.01)
    assert sync(conn).status == "succeeded"
    assert "after-start" in order_ids(workspace.id)


def test_x1_replaying_a_page_changes_nothing(workspace, data_file):
    """Re-running a sync over the same window, full or not, leaves the core identical."""
    write_orders(data_file, make_orders(23, start=utcnow() - timedelta(days=10)))
    conn = add_connection(workspace.id, data_file, page_size=5)
    assert sync(conn).status == "succeeded"
    first = content(workspace.id)
    assert len(first["orders"]) == 23 and len(first["lines"]) == 46
    assert len([e for e in first["events"] if e[0] == "purchase"]) == 23
    for full in (True, True, False):
        run = sync(conn, full=full)
        assert run.status == "succeeded"
        assert content(workspace.id) == first
        orders = run.counts.get("orders", {})
        assert orders.get("created", 0) == orders.get("updated", 0) == 0
        assert orders.get("unchanged", 0) == (23 if full else 0)


def test_configuration_error_fails_at_once_and_marks_the_store(workspace, data_file):
    write_orders(data_file, make_orders(25, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file, fail_on_page=2, fail_with="config")
    run = sync(conn)
    assert (run.status, run.error_class, run.attempts) == ("failed", "configuration", 1)
    assert "api_key revoked" in run.error_message
    conn = db.session.get(Connection, conn.id, populate_existing=True)
    assert conn.status == "error" and "api_key revoked" in conn.last_error
    assert conn.active_run_id is None
    assert len(ScheduledJobRegistry(queue=queue(SYNC))) == 0  # not retried
    assert len(order_ids(workspace.id)) == 10  # page 1 stays committed with its cursor


def test_transient_error_is_retried_with_backoff_then_resumes(app, workspace, data_file):
    app.config["SYNC_RETRY_BASE_SECONDS"] = 20
    write_orders(data_file, make_orders(25, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file, fail_on_page=2, fail_times=1)
    run = sync(conn)
    assert (run.status, run.error_class, run.attempts) == ("retrying", "transient", 1)
    assert run.job_id == f"sync-run-{run.id}-2"
    scheduled = ScheduledJobRegistry(queue=queue(SYNC))
    when = scheduled.get_scheduled_time(run.job_id)
    delay = (when - utcnow()).total_seconds()
    assert 8 <= delay <= 21  # 20 s base, half jitter
    assert db.session.get(Connection, conn.id).active_run_id == run.id  # still held
    assert service.request_sync(workspace.id, conn.id).id == run.id  # joins, not stale
    assert engine.execute(run.id, job_id=run.job_id) == "succeeded"
    run = db.session.get(SyncRun, run.id, populate_existing=True)
    assert (run.progress_done, run.attempts, run.error_class) == (25, 2, None)
    assert len(order_ids(workspace.id)) == 25


def test_rate_limited_honours_retry_after(workspace, data_file):
    write_orders(data_file, make_orders(5, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file, fail_on_page=1, fail_with="rate_limited",
                          retry_after=123)  # fmt: skip
    run = sync(conn)
    assert run.status == "retrying"
    when = ScheduledJobRegistry(queue=queue(SYNC)).get_scheduled_time(run.job_id)
    assert 118 <= (when - utcnow()).total_seconds() <= 123


def test_transient_errors_give_up_after_max_attempts(app, workspace, data_file):
    app.config["SYNC_MAX_ATTEMPTS"] = 2
    write_orders(data_file, make_orders(5, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file, fail_on_page=1)
    run = sync(conn)
    assert engine.execute(run.id, job_id=run.job_id) == "failed"
    run = db.session.get(SyncRun, run.id, populate_existing=True)
    assert (run.status, run.attempts, run.error_class) == ("failed", 2, "transient")
    assert db.session.get(Connection, conn.id, populate_existing=True).status == "active"


def test_system_error_is_recorded_with_its_type(workspace, data_file):
    write_orders(data_file, make_orders(5, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file, fail_on_page=1, fail_with="system")
    run = sync(conn)
    assert (run.status, run.error_class) == ("failed", "system")
    assert run.error_message.startswith("ZeroDivisionError: fake platform bug")
    assert db.session.get(Connection, conn.id, populate_existing=True).active_run_id is None


def test_a_run_taken_over_by_another_worker_stops_without_writing(workspace, data_file):
    write_orders(data_file, make_orders(5, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file)
    run = service.request_sync(workspace.id, conn.id)
    assert engine.execute(run.id, job_id="sync-run-old") == "superseded"
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_job_function_runs_in_the_app_context_and_raises_on_failure(workspace, data_file):
    from hub.sync import jobs

    write_orders(data_file, make_orders(3, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file)
    ws_id, conn_id = workspace.id, conn.id
    run_id = service.request_sync(ws_id, conn_id).id
    assert jobs.run_sync(run_id) == "succeeded"
    conn = db.session.get(Connection, conn_id)  # the job removed the session it used
    conn.settings = {**conn.settings, "fail_on_page": 1, "fail_with": "system"}
    db.session.commit()
    run = service.request_sync(ws_id, conn_id)
    with pytest.raises(jobs.SyncFailed, match="ZeroDivisionError"):
        jobs.run_sync(run.id)


def test_api_calls_and_refreshed_credentials_are_kept(workspace, data_file):
    from hub import crypto
    from hub.sync import runtime

    write_orders(data_file, [])
    conn = add_connection(workspace.id, data_file)
    connector = runtime.connector_for(conn)
    assert connector.config["api_key"] == "k-S1"  # decrypted and merged with the settings
    connector.context.save_credentials(
        {"api_key": "k-new", "expires_at": "2030-01-01T00:00:00+00:00"}
    )
    for _ in range(3):
        connector.context.extra["meter"]("GET", "/x", 200, 0.01)
    runtime.record_api_calls(db.session, connector, conn.id)
    db.session.commit()
    conn = db.session.get(Connection, conn.id, populate_existing=True)
    assert conn.api_calls == 3
    assert crypto.decrypt_json(conn.credentials_enc)["api_key"] == "k-new"
    assert conn.credential_expires_at.year == 2030


@pytest.mark.parametrize("read_ahead", [0, 1, 3])
def test_pages_read_ahead_or_inline_commit_the_same(app, workspace, data_file, read_ahead):
    app.config["SYNC_READ_AHEAD"] = read_ahead
    app.config["SYNC_BATCH_RECORDS"] = 10  # one page per transaction
    write_orders(data_file, make_orders(45, start=utcnow() - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file, fail_on_page=3, fail_times=1)
    run = sync(conn)
    # pages 1 and 2 are committed, page 3 failed: pages read ahead of it were not applied
    assert (run.status, run.progress_done) == ("retrying", 20)
    assert len(order_ids(workspace.id)) == 20
    assert engine.execute(run.id, job_id=run.job_id) == "succeeded"
    run = db.session.get(SyncRun, run.id, populate_existing=True)
    assert run.progress_done == 45
    assert len(order_ids(workspace.id)) == 45


def test_each_committed_batch_asks_for_a_background_checkpoint(
    app, workspace, data_file, monkeypatch
):
    """The engine commits its batches itself (records, cursor and progress together); the
    core's store asks for the WAL checkpoint at that commit: no batch waits for one in its
    commit (SQLite)."""
    from hub.core.sqlite import checkpoint

    asked = []
    real = checkpoint.checkpoint_soon
    monkeypatch.setattr(checkpoint, "checkpoint_soon", lambda s: asked.append(real(s)))
    monkeypatch.setitem(app.config, "SYNC_BATCH_RECORDS", 10)
    write_orders(data_file, make_orders(25, start=utcnow() - timedelta(days=3)))
    run = sync(add_connection(workspace.id, data_file))
    assert run.status == "succeeded", run.error_message
    assert len(asked) >= 3  # 25 orders in batches of at most 10


def test_a_page_state_that_cannot_be_stored_fails_the_run_naming_the_stream(
    app, workspace, data_file, monkeypatch
):
    """Found when the page is read (in the read-ahead thread), raised where the page would
    have been applied: the pages before it stay committed with their cursor."""
    app.config["SYNC_BATCH_RECORDS"] = 10
    read = FakeOrders.read

    def leaky(self, window, state):
        for page in read(self, window, state):
            extra = {"seen": {"1000"}} if page.state["page"] == 3 else {}
            yield Page(page.records, {**page.state, **extra}, page.total)

    monkeypatch.setattr(FakeOrders, "read", leaky)
    write_orders(data_file, make_orders(45, start=utcnow() - timedelta(days=1)))
    run = sync(add_connection(workspace.id, data_file))
    assert (run.status, run.error_class) == ("failed", "system")
    assert run.error_message.startswith("StateNotSerialisable: stream orders: its page state")
    assert run.progress_done == 20 and len(order_ids(workspace.id)) == 20
    position = cursor_state(db.session.get(Connection, run.connection_id))["run"]["page"]
    assert (position["after"][1], position["page"]) == ("1019", 2)  # after the 20th order


class Killed(BaseException):
    """Ends a sync as SIGKILL would: no error recorded, the run left running."""


def test_x2_a_state_moved_on_after_its_page_is_yielded_is_committed_as_it_was(
    app, workspace, other_workspace, data_file, monkeypatch
):
    """A stream that keeps one state dict and moves it on as it reads (as the Youzan stream's
    live ``queue`` did): the reader thread has read every page before the first batch is
    applied, and each batch is still committed with the position after its own last record,
    so a run killed after two batches resumes with nothing skipped."""
    app.config.update(SYNC_READ_AHEAD=50, SYNC_BATCH_RECORDS=10, SYNC_BATCH_SECONDS=600)
    read, all_read = FakeOrders.read, threading.Event()

    def read_then_tell(self, window, state):
        yield from read(self, window, state)
        all_read.set()

    committed: list[tuple[str, str]] = []
    commit = engine._commit_page

    def commit_then_look(run, connector, page, done, result):
        assert all_read.wait(10), "the reader did not get to the end"
        commit(run, connector, page, done, result)
        position = cursor_state(db.session.get(Connection, run.connection_id))["run"]["page"]
        committed.append((position["after"][1], max(order_ids(run.workspace_id))))
        if len(committed) == 2:
            raise Killed

    monkeypatch.setattr(FakeOrders, "read", read_then_tell)
    monkeypatch.setattr(engine, "_commit_page", commit_then_look)
    rows = make_orders(60, start=utcnow() - timedelta(days=2), buyers=9)
    write_orders(data_file, rows)
    conn = add_connection(workspace.id, data_file, page_size=5, shared_state=True)
    run = service.request_sync(workspace.id, conn.id)
    with pytest.raises(Killed):
        engine.execute(run.id, job_id=run.job_id)
    db.session.rollback()
    assert committed == [("1009", "1009"), ("1019", "1019")]  # not ("1059", ...): page 12
    assert engine.execute(run.id, job_id=run.job_id) == "succeeded"  # resumed after 1019

    monkeypatch.setattr(engine, "_commit_page", commit)
    calm_file = data_file.with_name("calm.json")
    write_orders(calm_file, rows)
    assert sync(add_connection(other_workspace.id, calm_file, store="S2")).status == "succeeded"
    assert len(order_ids(workspace.id)) == 60
    assert content(workspace.id) == content(other_workspace.id)


def test_buyers_sharing_a_consignee_mobile_are_counted_as_possible_duplicates(workspace, data_file):
    """Issue 22.2: the second buyer with the first one's phone is a customer of its own; the
    run counts it as a possible duplicate for the merchant to merge (or not)."""
    rows = make_orders(3, start=utcnow() - timedelta(days=1), buyers=3)
    for row in rows:
        row["mobile"] = "+86 139 1234 5678"
    write_orders(data_file, rows)
    run = sync(add_connection(workspace.id, data_file))
    assert run.status == "succeeded", run.error_message
    assert run.counts["customers"] == {"created": 3, "possible_duplicates": 2}
