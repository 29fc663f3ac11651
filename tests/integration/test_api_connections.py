"""JSON API for connections and syncs: bind (Y1), settings (Y5), sync now (Y3), unbind,
secrets masked, every id scoped to the token's workspace."""

from __future__ import annotations

import pytest

from hub import crypto
from hub.extensions import db
from hub.models import Connection, SyncRun
from hub.services import tokens

API = "/api/v1"
SECRET = "api-webhook-secret"
SETTINGS = {"store_id": "7001", "store_name": "Green Tea", "webhook_secret": SECRET}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": ["tests.support.fake_push:FakePushConnector"]}


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}


@pytest.fixture
def other_auth(other_workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(other_workspace.id, 'b')[1]}"}


def bind(client, auth, settings=None, **extra):
    """Bind without the first sync the API starts by default (issue 22), which these tests
    start themselves."""
    body = {"platform": "fakepush", "settings": settings or SETTINGS, "first_sync": False, **extra}
    return client.post(API + "/connections", headers=auth, json=body)


@pytest.fixture
def store(client, auth) -> dict:
    resp = bind(client, auth, name="My tea shop")
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_y1_api_bind_returns_the_store_with_secrets_masked(store):
    assert store["store_id"] == "7001" and store["store_name"] == "My tea shop"
    assert store["settings"]["webhook_secret"] == crypto.MASK
    assert SECRET not in str(store)


def test_y1_api_bind_in_a_second_workspace_is_refused_then_allowed_after_unbind(
    client, auth, other_auth, store
):
    refused = bind(client, other_auth)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "already_bound"
    assert error["message"] == (
        "store 7001 is already bound to another workspace; unbind it there first"
    )
    assert client.delete(f"{API}/connections/{store['id']}", headers=auth).status_code == 200
    assert bind(client, other_auth).status_code == 201


def test_api_bind_errors_name_the_field(client, auth):
    resp = bind(client, auth, settings={"webhook_secret": SECRET})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["field"] == "store_id"
    resp = client.post(API + "/connections", headers=auth, json={"platform": "nope"})
    assert resp.get_json()["error"]["field"] == "platform"
    resp = bind(client, auth, settings={**SETTINGS, "webhook_secret": "wrong-secret"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "credentials_rejected"
    assert db.session.query(Connection).count() == 0


def test_y2_api_store_list(client, auth, store):
    body = client.get(API + "/connections", headers=auth).get_json()
    assert body["total"] == 1
    [row] = body["items"]
    for key in (
        "store_id",
        "store_name",
        "api_calls",
        "sync_status",
        "sync_mode",
        "sync_interval_minutes",
        "credential_expires_at",
        "last_sync_at",
    ):
        assert key in row
    assert row["created_at"].endswith("+00:00")


def test_y5_api_sync_settings(client, auth, store):
    url = f"{API}/connections/{store['id']}/settings"
    for minutes in (29, 1441):
        resp = client.patch(url, headers=auth, json={"mode": "auto", "interval_minutes": minutes})
        assert resp.status_code == 400
        assert resp.get_json()["error"]["field"] == "interval_minutes"
    resp = client.patch(url, headers=auth, json={"mode": "auto", "interval_minutes": 30})
    assert resp.status_code == 200
    assert (resp.get_json()["sync_mode"], resp.get_json()["sync_interval_minutes"]) == ("auto", 30)


def test_y5_api_disabled_store_refuses_sync(client, auth, store):
    client.patch(
        f"{API}/connections/{store['id']}/settings", headers=auth, json={"mode": "disabled"}
    )
    resp = client.post(f"{API}/connections/{store['id']}/sync", headers=auth)
    assert resp.status_code == 409
    assert "disabled" in resp.get_json()["error"]["message"]
    assert db.session.query(SyncRun).count() == 0
    assert client.post(f"{API}/connections/sync", headers=auth).get_json()["items"] == []


def test_y3_api_sync_one_and_all_and_read_the_run(client, auth, store):
    resp = client.post(f"{API}/connections/{store['id']}/sync?full=1", headers=auth)
    assert resp.status_code == 202
    run = resp.get_json()
    assert run["connection_id"] == store["id"] and run["full"] is True
    assert run["status"] == "queued" and run["progress"] == {"done": 0, "total": None}
    joined = client.post(f"{API}/connections/sync", headers=auth).get_json()
    assert [r["id"] for r in joined["items"]] == [run["id"]]  # joins the running one
    detail = client.get(f"{API}/syncs/{run['id']}", headers=auth).get_json()
    assert detail["id"] == run["id"] and detail["error"] is None
    listing = client.get(f"{API}/syncs", headers=auth, query_string={"connection_id": store["id"]})
    assert [r["id"] for r in listing.get_json()["items"]] == [run["id"]]


def test_api_unbind_refused_while_syncing(client, auth, store):
    client.post(f"{API}/connections/{store['id']}/sync", headers=auth)
    resp = client.delete(f"{API}/connections/{store['id']}", headers=auth)
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "conflict"


def test_api_credentials_mask_sent_back_keeps_the_secret(client, auth, store):
    url = f"{API}/connections/{store['id']}/credentials"
    shown = client.get(f"{API}/connections/{store['id']}", headers=auth).get_json()["settings"]
    resp = client.patch(url, headers=auth, json={"settings": {**shown, "store_name": "New"}})
    assert resp.status_code == 200
    assert resp.get_json()["settings"]["webhook_secret"] == crypto.MASK
    conn = db.session.get(Connection, store["id"])
    assert crypto.decrypt_json(conn.credentials_enc) == {"webhook_secret": SECRET}


def test_api_connections_and_syncs_are_scoped(client, auth, other_auth, store):
    cid = store["id"]
    run_id = client.post(f"{API}/connections/{cid}/sync", headers=auth).get_json()["id"]
    calls = [
        ("get", f"/connections/{cid}", None),
        ("patch", f"/connections/{cid}/settings", {"mode": "manual"}),
        ("patch", f"/connections/{cid}/credentials", {"settings": {"store_name": "x"}}),
        ("post", f"/connections/{cid}/sync", None),
        ("delete", f"/connections/{cid}", None),
        ("get", f"/syncs/{run_id}", None),
    ]
    for method, path, body in calls:
        resp = getattr(client, method)(API + path, headers=other_auth, json=body)
        assert resp.status_code == 404, (method, path)
        assert resp.get_json()["error"]["code"] == "not_found"
    assert client.get(API + "/connections", headers=other_auth).get_json()["items"] == []
    assert client.get(API + "/syncs", headers=other_auth).get_json()["total"] == 0
    assert client.post(API + "/connections/sync", headers=other_auth).get_json()["items"] == []
    assert db.session.get(Connection, cid).is_bound


def test_y2_api_store_shows_the_sync_status_the_store_list_shows(client, auth, store):
    """One summary of a store: its latest run's status, finished or not, in the list and in
    the store's own view alike (the view showed only an unfinished run's)."""
    from hub.sync import engine

    run_id = client.post(f"{API}/connections/{store['id']}/sync", headers=auth).get_json()["id"]
    assert engine.execute(run_id) == "succeeded"
    [listed] = client.get(API + "/connections", headers=auth).get_json()["items"]
    shown = client.get(f"{API}/connections/{store['id']}", headers=auth).get_json()
    assert listed["sync_status"] == shown["sync_status"] == "succeeded"


def test_y5_api_sync_refusals_say_what_the_ui_and_cli_say(client, auth, other_auth, store):
    """One lookup and one "may this store sync" check: the API answers with their words."""
    url = f"{API}/connections/{store['id']}"
    resp = client.post(f"{url}/sync", headers=other_auth)
    assert resp.get_json()["error"]["message"] == (
        f"connection {store['id']} does not exist in this workspace"
    )
    client.patch(f"{url}/settings", headers=auth, json={"mode": "disabled"})
    resp = client.post(f"{url}/sync", headers=auth)
    assert resp.get_json()["error"]["message"] == (
        "sync is disabled for this store; change its sync settings"
    )
