"""Connection services: Y1 (one workspace per store), Y2 (store list), Y5 (sync modes),
secrets encrypted at rest and masked on read."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hub import crypto
from hub.core.errors import AlreadyBound, AuthError, Conflict, NotFound, ValidationFailed
from hub.extensions import db
from hub.models import Connection
from hub.services import connections
from hub.sync import service

SECRET = "s3cret-webhook-key"
SETTINGS = {"store_id": "8001", "store_name": "Tea House", "webhook_secret": SECRET}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": ["tests.support.fake_push:FakePushConnector"]}


@pytest.fixture
def store(workspace) -> Connection:
    return connections.bind(workspace.id, "fakepush", SETTINGS)


def test_y1_bind_stores_the_store_and_its_name(store, workspace):
    assert (store.workspace_id, store.platform) == (workspace.id, "fakepush")
    assert (store.external_id, store.bound_key, store.name) == ("8001", "8001", "Tea House")
    assert store.status == "active" and store.sync_mode == "manual"


def test_y1_same_store_in_a_second_workspace_is_refused(store, other_workspace, workspace):
    with pytest.raises(AlreadyBound) as err:
        connections.bind(other_workspace.id, "fakepush", SETTINGS)
    message = str(err.value)
    assert "store 8001 is already bound to another workspace; unbind it there first" in message
    assert workspace.name not in message  # never leak another tenant's name
    assert db.session.query(Connection).count() == 1


def test_y1_same_store_twice_in_one_workspace_names_the_connection(store, workspace):
    with pytest.raises(AlreadyBound, match=f"store #{store.id}"):
        connections.bind(workspace.id, "fakepush", SETTINGS)


def test_y1_unbind_releases_the_store_for_another_workspace(store, workspace, other_workspace):
    unbound = connections.unbind(workspace.id, store.id)
    assert (unbound.bound_key, unbound.status, unbound.sync_mode) == (None, "unbound", "disabled")
    assert unbound.unbound_at is not None
    again = connections.bind(other_workspace.id, "fakepush", SETTINGS)
    assert again.id != store.id and again.workspace_id == other_workspace.id
    assert connections.unbind(workspace.id, store.id).status == "unbound"  # idempotent


def test_y1_unbind_is_refused_while_a_sync_runs(store, workspace):
    run = service.request_sync(workspace.id, store.id)
    with pytest.raises(Conflict, match=f"sync run #{run.id}"):
        connections.unbind(workspace.id, store.id)
    assert db.session.get(Connection, store.id).is_bound


def test_y1_another_workspace_cannot_see_or_unbind_the_store(store, other_workspace):
    with pytest.raises(NotFound):
        connections.get(other_workspace.id, store.id)
    with pytest.raises(NotFound):
        connections.unbind(other_workspace.id, store.id)
    assert connections.list_connections(other_workspace.id) == []


def test_bind_validation_names_the_field(workspace):
    with pytest.raises(ValidationFailed) as err:
        connections.bind(workspace.id, "fakepush", {"webhook_secret": SECRET})
    assert err.value.field == "store_id"
    with pytest.raises(ValidationFailed) as err:
        connections.bind(workspace.id, "nosuch", SETTINGS)
    assert err.value.field == "platform"


def test_bind_with_rejected_credentials_stores_nothing(workspace):
    with pytest.raises(AuthError):
        connections.bind(workspace.id, "fakepush", {**SETTINGS, "webhook_secret": "wrong-key!"})
    assert db.session.query(Connection).count() == 0


def test_y2_store_list_has_the_columns(store, workspace):
    service.request_sync(workspace.id, store.id)
    [row] = connections.list_connections(workspace.id)
    assert row["store_id"] == "8001" and row["store_name"] == "Tea House"
    assert row["api_calls"] == 0
    assert row["sync_status"] == "queued"
    assert row["sync_mode"] == "manual" and row["sync_interval_minutes"] is None
    assert "credential_expires_at" in row and row["last_sync_at"] is None
    assert connections.list_connections(workspace.id, platform="youzan") == []


@pytest.mark.parametrize("minutes", [29, 1441, 0, -5, "abc", 30.5])
def test_y5_auto_interval_outside_30_to_1440_is_refused(store, workspace, minutes):
    with pytest.raises(ValidationFailed) as err:
        connections.update_sync_settings(workspace.id, store.id, "auto", minutes)
    assert err.value.field == "interval_minutes"
    assert db.session.get(Connection, store.id).sync_mode == "manual"


@pytest.mark.parametrize("minutes", [30, 1440, "60"])
def test_y5_auto_interval_within_bounds_is_taken(store, workspace, minutes):
    conn = connections.update_sync_settings(workspace.id, store.id, "auto", minutes)
    assert (conn.sync_mode, conn.sync_interval_minutes) == ("auto", int(minutes))


def test_y5_auto_needs_an_interval_and_mode_must_be_known(store, workspace):
    with pytest.raises(ValidationFailed, match="enter how often the store syncs automatically"):
        connections.update_sync_settings(workspace.id, store.id, "auto")
    with pytest.raises(ValidationFailed) as err:
        connections.update_sync_settings(workspace.id, store.id, "hourly")
    assert err.value.field == "mode"


def test_y5_disabled_refuses_a_sync_request(store, workspace):
    connections.update_sync_settings(workspace.id, store.id, "disabled")
    with pytest.raises(Conflict, match="disabled"):
        service.request_sync(workspace.id, store.id)
    with pytest.raises(Conflict, match="disabled"):
        connections.ensure_syncable(store)


def test_secrets_are_encrypted_at_rest(store):
    raw = db.session.execute(
        text("SELECT credentials_enc, settings FROM connections WHERE id = :id"), {"id": store.id}
    ).one()
    assert SECRET.encode() not in bytes(raw[0])
    assert SECRET not in str(raw[1])
    assert crypto.decrypt_json(bytes(raw[0])) == {"webhook_secret": SECRET}


def test_secrets_read_back_masked_and_the_mask_keeps_them(store, workspace):
    shown = connections.masked_settings(store)
    assert shown["webhook_secret"] == crypto.MASK
    assert shown["store_id"] == "8001"
    shown["store_name"] = "Renamed"
    conn = connections.update_credentials(workspace.id, store.id, shown)
    assert conn.settings["store_name"] == "Renamed"
    assert connections.connection_config(conn)["webhook_secret"] == SECRET


def test_secrets_sent_new_replace_the_stored_one(store, workspace):
    conn = connections.update_credentials(
        workspace.id, store.id, {"webhook_secret": "a-new-secret-value"}
    )
    assert connections.connection_config(conn)["webhook_secret"] == "a-new-secret-value"
    assert b"a-new-secret-value" not in conn.credentials_enc


def test_credentials_of_another_store_are_refused(store, workspace):
    with pytest.raises(ValidationFailed, match="belong to store 9999"):
        connections.update_credentials(workspace.id, store.id, {"store_id": "9999"})
    assert connections.connection_config(store)["store_id"] == "8001"
