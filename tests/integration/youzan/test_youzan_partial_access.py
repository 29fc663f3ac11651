"""Issue 22 (10): a store whose Youzan app was granted only part of the API (gateway error
4204 for some APIs) still binds and syncs orders; what was refused degrades and is reported on
bind and on the store page. A short-lived token is not renewed for every call."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from connectors.youzan.client import YouzanClient
from connectors.youzan.sandbox import demo_bind_config
from connectors.youzan.sandbox_data import KDT_ID
from hub.extensions import db
from hub.models import Connection, Order
from hub.services import connections
from tests.integration.youzan.conftest import sync
from tests.support.ui import login, make_user

DENIED = ["youzan.shop.get", "youzan.cloud.secret.decrypt.batch",
          "youzan.cloud.secret.decrypt.single"]  # fmt: skip


@pytest.fixture
def sandbox_orders() -> int:
    return 30


def bind_form(client, workspace, sandbox):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    data = {**demo_bind_config(sandbox.url), "backoff_seconds": "0.01"}
    return client.post("/stores/bind/youzan", data=data, follow_redirects=True)


def test_a_store_granted_part_of_the_api_binds_syncs_and_says_what_it_lacks(
    client, workspace, sandbox
) -> None:
    sandbox.control("faults", denied_apis=DENIED)
    page = bind_form(client, workspace, sandbox)  # main: "the app lacks permission ... (4204)"
    assert page.status_code == 200
    conn = db.session.scalar(select(Connection))
    assert conn is not None and conn.name == f"Youzan store {KDT_ID}"
    assert "Youzan refused to tell the store&#39;s name" in page.text  # the bind's flash
    run = sync(conn)
    assert (run.status, run.error_message) == ("succeeded", None)
    orders = db.session.scalar(select(func.count(Order.id)))
    assert orders == len(sandbox.expected()) > 0
    db.session.refresh(conn)
    assert [w.split(" (")[0] for w in conn.warnings] == [
        "Youzan refused to tell the store's name",
        "Youzan refused to decrypt buyers' names, phones and addresses",
    ]
    store_page = client.get(f"/stores/{conn.id}").text
    assert 'data-test="store-warnings"' in store_page
    assert "orders are synced without them" in store_page
    assert f"http://localhost/webhooks/youzan/{conn.id}</code>" in store_page  # 22.11
    assert "console.youzanyun.com" in store_page  # how to register it
    api = connections.summary(conn)
    assert len(api["warnings"]) == 2


def test_orders_refused_still_fail_the_sync_as_configuration(workspace, sandbox) -> None:
    config = {**demo_bind_config(sandbox.url), "backoff_seconds": 0.01}
    conn = connections.bind(workspace.id, "youzan", config)
    assert conn.warnings is None
    sandbox.control("faults", denied_apis=["youzan.trades.sold.get"])
    run = sync(conn)
    assert (run.status, run.error_class) == ("failed", "configuration")
    assert "(4204)" in run.error_message


def test_a_short_lived_token_is_taken_once_not_for_every_call(workspace, sandbox) -> None:
    sandbox.control("faults", token_ttl_ms=60_000)
    config = {**demo_bind_config(sandbox.url), "backoff_seconds": 0.01}
    conn = connections.bind(workspace.id, "youzan", config)
    before = sandbox.get("stats")
    run = sync(conn)
    assert run.status == "succeeded"
    after = sandbox.get("stats")
    assert after["api_calls"] - before["api_calls"] >= 3
    # main: the fixed 10-minute margin exceeded the 60 s lifetime, so every call took a token
    assert after["token_calls"] - before["token_calls"] == 1


def test_the_refresh_margin_is_a_tenth_of_the_lifetime_at_most() -> None:
    now = [1_000_000.0]
    client = YouzanClient(http=None, client_id="c", client_secret="s", grant_id="1",
                          clock=lambda: now[0])  # fmt: skip
    client.token_state = {"access_token": "t", "token_issued": 1_000_000_000,
                          "token_expires": 1_000_060_000}  # fmt: skip
    assert client.refresh_margin() == 6.0
    assert client.token() == "t"
    week = 7 * 86400 * 1000
    client.token_state = {"access_token": "t", "token_issued": 0, "token_expires": week}
    assert client.refresh_margin() == 600
    client.token_state = {"access_token": "t", "token_expires": week}  # saved before issue 22
    assert client.refresh_margin() == 600
