"""Issue 22 (11): a store's push URL, in full, with how to register it, on its page, in the API
and in the inbox's empty state; binding asks how the store syncs and starts its first sync
(UI form, API, CLI), by default: a first sync now, then automatically every 60 minutes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hub.extensions import db, redis_connection
from hub.jobs.queues import SYNC, queue
from hub.models import Connection, SyncRun
from hub.services import tokens
from tests.support.burst import BurstWorker
from tests.support.fake_platform import make_orders, write_orders
from tests.support.ui import login, make_user

API = "/api/v1"
PUSH_SETTINGS = {"store_id": "7001", "store_name": "Green Tea", "webhook_secret": "x" * 12}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    push = "tests.support.fake_push:FakePushConnector"
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], push]}


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}


@pytest.fixture
def admin(client, workspace):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    return client


@pytest.fixture
def orders_file(tmp_path: Path) -> Path:
    path = tmp_path / "orders.json"
    write_orders(path, make_orders(6, start=datetime.now(UTC) - timedelta(days=1)))
    return path


def api_bind(client, auth, **extra):
    body = {"platform": "fakepush", "settings": PUSH_SETTINGS, **extra}
    return client.post(API + "/connections", headers=auth, json=body)


def run_sync_worker(app) -> None:
    BurstWorker([queue(SYNC)], connection=redis_connection(app)).work(burst=True)


def test_the_store_page_shows_the_full_push_url(admin, auth, app) -> None:
    conn = api_bind(admin, auth, first_sync=False).get_json()
    url = f"http://localhost/webhooks/fakepush/{conn['id']}"
    assert conn["push_url"] == url
    page = admin.get(f"/stores/{conn['id']}").text
    assert f'<code class="mono" data-test="push-url-value">{url}</code>' in page
    assert "Register it on the platform" in page
    app.config["PUBLIC_URL"] = "https://hub.example.com/"
    page = admin.get(f"/stores/{conn['id']}").text
    assert f"https://hub.example.com/webhooks/fakepush/{conn['id']}</code>" in page


def test_the_inbox_empty_state_names_the_push_url_not_a_broken_path(admin, auth) -> None:
    conn = api_bind(admin, auth, first_sync=False).get_json()
    everything = admin.get("/inbox").text
    assert "/webhooks//" not in everything  # main: "/webhooks/<platform>/<store>" as tags
    assert "push URL, shown on the store" in everything
    one = admin.get(f"/inbox?store={conn['id']}").text
    assert f"pushes an update of this store to {conn['push_url']}." in one


def test_the_bind_form_asks_and_starts_the_first_sync(admin, app, orders_file) -> None:
    form = admin.get("/stores/bind/fake").text
    assert 'name="first_sync" value="1" checked' in form
    assert 'name="sync_mode" value="auto" checked' in form
    data = {"store_id": "S1", "api_key": "k", "data_file": str(orders_file), "first_sync": "1",
            "sync_mode": "auto", "sync_interval_minutes": "60"}  # fmt: skip
    resp = admin.post("/stores/bind/fake", data=data)
    run = db.session.scalar(select(SyncRun))
    assert run is not None and resp.headers["Location"] == f"/syncs/{run.id}"
    assert (run.status, run.trigger) == ("queued", "bind")
    conn = db.session.get(Connection, run.connection_id)
    assert (conn.sync_mode, conn.sync_interval_minutes) == ("auto", 60)
    run_id = run.id
    run_sync_worker(app)
    assert db.session.get(SyncRun, run_id).status == "succeeded"


def test_the_bind_form_can_leave_the_store_manual_without_a_sync(admin, orders_file) -> None:
    data = {"store_id": "S2", "api_key": "k", "data_file": str(orders_file), "sync_mode": "manual"}
    resp = admin.post("/stores/bind/fake", data=data)
    conn = db.session.scalar(select(Connection))
    assert resp.headers["Location"] == f"/stores/{conn.id}"
    assert (conn.sync_mode, db.session.scalar(select(SyncRun))) == ("manual", None)


def test_the_api_bind_defaults_to_a_first_sync_and_every_60_minutes(client, auth) -> None:
    body = api_bind(client, auth).get_json()
    assert (body["sync_mode"], body["sync_interval_minutes"]) == ("auto", 60)
    assert body["first_sync_run"]["status"] == "queued"
    assert body["first_sync_run"]["trigger"] == "bind"
    client.delete(f"{API}/connections/{body['id']}", headers=auth)  # refused: a sync is queued
    manual = api_bind(client, auth, sync_mode="manual", first_sync=False, settings={
        **PUSH_SETTINGS, "store_id": "7002"})  # fmt: skip
    assert (manual.get_json()["sync_mode"], manual.get_json()["first_sync_run"]) == ("manual", None)
    bad = api_bind(client, auth, sync_mode="auto", interval_minutes=5,
                   settings={**PUSH_SETTINGS, "store_id": "7003"})  # fmt: skip
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "interval_minutes"


def test_cli_connect_queues_the_first_sync_and_inline_runs_it(
    runner: CliRunner, workspace, orders_file: Path
) -> None:
    result = runner.invoke(args=["hub", "connect", "fake", "--workspace", workspace.slug,
                                 "--set", "store_id=S3", "--set", "api_key=k",
                                 "--set", f"data_file={orders_file}", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["sync_mode"], data["sync_interval_minutes"]) == ("auto", 60)
    assert data["worker_running"] is False  # humans read why on stderr
    inline = runner.invoke(args=["hub", "sync", str(data["id"]), "--inline", "--json"])
    assert json.loads(inline.stdout)["run_id"] == data["first_sync_run_id"]
    assert json.loads(inline.stdout)["status"] == "succeeded"
