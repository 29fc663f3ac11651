"""Youzan order sync end to end against the sandbox over real HTTP (Y1–Y5, X1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from connectors.youzan.sandbox import demo_bind_config
from hub.core.errors import AlreadyBound, AuthError, Conflict
from hub.extensions import db
from hub.models import Connection, SyncRun
from hub.services import connections
from hub.sync import engine, service
from tests.integration.youzan.conftest import hub_orders, next_second, sync


def test_y1_bind_checks_credentials_and_one_workspace_at_a_time(
    app, workspace, other_workspace, sandbox
):
    bad = {**demo_bind_config(sandbox.url), "client_secret": "wrong"}
    with pytest.raises(AuthError, match="client_secret"):
        connections.bind(workspace.id, "youzan", bad)
    assert db.session.scalar(select(func.count(Connection.id))) == 0
    conn = connections.bind(workspace.id, "youzan", demo_bind_config(sandbox.url))
    assert (conn.external_id, conn.name) == ("91000001", "Sandbox Tea House")
    assert "wrong" not in str(conn.settings) and "client_secret" not in conn.settings
    with pytest.raises(AlreadyBound, match="another workspace"):
        connections.bind(other_workspace.id, "youzan", demo_bind_config(sandbox.url))
    connections.unbind(workspace.id, conn.id)
    moved = connections.bind(other_workspace.id, "youzan", demo_bind_config(sandbox.url))
    assert moved.workspace_id == other_workspace.id


def test_y2_store_list_counts_api_calls_and_shows_expiry_mode_status(workspace, store, sandbox):
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    [row] = connections.list_connections(workspace.id, "youzan")
    assert row["store_id"] == "91000001" and row["store_name"] == "Sandbox Tea House"
    assert row["api_calls"] == run.api_calls > 0
    assert row["credential_expires_at"] > datetime.now(UTC) + timedelta(days=6)
    assert (row["sync_mode"], row["sync_status"]) == ("manual", "succeeded")
    assert row["last_success_at"] is not None


def test_y3_sync_all_bound_stores(workspace, store, sandbox):
    runs = service.request_sync_all(workspace.id)
    assert [r.connection_id for r in runs] == [store.id]


def test_y4_first_sync_takes_365_days_and_matches_the_truth(workspace, store, sandbox):
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    got, expected = hub_orders(workspace.id), sandbox.expected()
    edge = datetime.now(UTC) - timedelta(days=365)
    assert all(datetime.fromtimestamp(sandbox.shop.trades[t].update_time, UTC) > edge for t in got)
    assert got and got == expected


@pytest.mark.parametrize("sandbox_orders", [1500])
def test_y4_incremental_sync_after_500_changes_equals_the_truth(workspace, store, sandbox):
    assert sync(store).status == "succeeded"
    changed = sandbox.control("advance", changes=500)["changed"]
    assert len(changed) == 500
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    assert not run.full
    assert hub_orders(workspace.id) == sandbox.expected()


def test_x1_syncing_again_changes_nothing(workspace, store, sandbox):
    sync(store)
    before = hub_orders(workspace.id)
    run = sync(store, full=True)
    assert run.status == "succeeded" and hub_orders(workspace.id) == before


def test_y5_disabled_store_refuses_sync_and_auto_interval_is_bounded(workspace, store):
    with pytest.raises(Exception, match="from 30 to 1440"):
        connections.update_sync_settings(workspace.id, store.id, "auto", 10)
    connections.update_sync_settings(workspace.id, store.id, "auto", 30)
    connections.update_sync_settings(workspace.id, store.id, "disabled")
    with pytest.raises(Conflict, match="disabled"):
        service.request_sync(workspace.id, store.id)


def test_token_expiry_and_4101_storm_during_a_sync(workspace, store, sandbox):
    sandbox.control("faults", expire_tokens=True, throttle=4, errors_5xx=1)
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    stats = sandbox.get("stats")
    assert (stats["faults"]["throttle"], stats["token_calls"]) == (0, 2)  # bind + one refresh
    assert hub_orders(workspace.id) == sandbox.expected()


def test_a_4101_storm_longer_than_the_client_retries_resumes_the_run(workspace, store, sandbox):
    sandbox.control("advance", changes=10)
    next_second()
    run = service.request_sync(workspace.id, store.id)
    sandbox.control("faults", throttle=40)
    assert engine.execute(run.id, job_id=run.job_id) == "retrying"
    run = db.session.get(SyncRun, run.id, populate_existing=True)
    assert (run.error_class, run.attempts) == ("transient", 1)
    assert "4101" in run.error_message
    sandbox.control("faults", throttle=0)
    assert engine.execute(run.id, job_id=run.job_id) == "succeeded"
    assert hub_orders(workspace.id) == sandbox.expected()


def test_revoked_authorization_fails_the_sync_as_configuration(workspace, store, sandbox):
    sandbox.control("faults", revoke=True, expire_tokens=True)
    run = sync(store)
    assert (run.status, run.error_class) == ("failed", "configuration")
    assert "revoked" in run.error_message and "91000001" in run.error_message
