"""Errors as HTTP 200 + errcode (PLATFORMS.md §2.6): -1 retried with a short backoff, 45011
(per-minute quota) waited out, 45009 (daily quota) a transient error the engine retries later
with a clear message; each counted into the run's ``api.throttled``."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from connectors.wechat_shop.sandbox_server import demo_bind_config
from hub.extensions import db
from hub.models import Order, SyncRun
from hub.services import connections
from hub.sync import engine
from tests.integration.wechat_shop.conftest import sync


def _orders(workspace_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Order.id)).where(Order.workspace_id == workspace_id))


def test_busy_minus_1_is_retried_and_counted(store, sandbox, workspace):
    sandbox.control("faults", errcode=-1, count=2, path="order/get_list")
    run = sync(store, full=True)
    assert run.status == "succeeded", run.error_message
    assert run.counts["api"]["throttled"] == 2
    assert _orders(workspace.id) > 0


def test_minute_quota_45011_is_waited_out(workspace, sandbox):
    conn = connections.bind(
        workspace.id, "wechat_shop", {**demo_bind_config(sandbox.url), "quota_wait_seconds": 0.3}
    )
    sandbox.control("faults", errcode=45011, count=1, path="spu/get_list")
    started = time.monotonic()
    run = sync(conn, full=True)
    assert run.status == "succeeded", run.error_message
    assert run.counts["api"]["throttled"] == 1
    assert time.monotonic() - started < 20


def test_daily_quota_45009_defers_the_run_with_a_clear_message(store, sandbox, workspace):
    sandbox.control("faults", errcode=45009, count=1, path="order/get_list")
    run = sync(store, full=True)
    assert run.status == "retrying"
    assert "daily API quota" in run.error_message and "45009" in run.error_message
    assert run.error_class == "transient"
    engine.execute(run.id, job_id=run.job_id)  # the engine's later retry
    db.session.expire_all()
    run = db.session.get(SyncRun, run.id)
    assert run.status == "succeeded", run.error_message
    assert _orders(workspace.id) > 0
