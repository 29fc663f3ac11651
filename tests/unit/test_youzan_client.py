"""Youzan client and stream against the sandbox over real HTTP: tokens, faults, windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from connectors.sandbox_serving import serve
from connectors.youzan.connector import YouzanConnector
from connectors.youzan.sandbox import create_app, demo_bind_config
from hub.connectors import ConnectorContext, SyncWindow
from hub.core.errors import AuthError
from hub.sync.egress import EgressPolicy
from hub.sync.http import HttpClient


@pytest.fixture(scope="module")
def sandbox():
    running = serve(create_app(seed=11, orders=800))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _reset(sandbox):
    yield
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"throttle": 0, "errors_5xx": 0, "dup_tid": False, "revoke": False},
    )


def _stats(sandbox):
    return requests.get(f"{sandbox.url}/_sandbox/stats").json()


def connector(url, saved=None, **over):
    cfg = YouzanConnector.validate_config(
        {**demo_bind_config(url), "backoff_seconds": 0.01, **over}
    )
    saved = saved if saved is not None else []
    ctx = ConnectorContext(
        connection_id=None,
        credentials={"client_secret": cfg["client_secret"]},
        http=HttpClient(egress=EgressPolicy(allow_private=True)),  # the sandbox is on 127.0.0.1
        save_credentials=saved.append,
    )
    return YouzanConnector(cfg, ctx)


def read_all(conn, days=365, state=None):
    now = datetime.now(UTC)
    pages = list(
        conn.streams()[0].read(SyncWindow(now - timedelta(days=days), now, True), state or {})
    )
    return [r for p in pages for r in p.records], pages


def test_y1_check_takes_a_token_and_names_the_store(sandbox):
    saved = []
    info = connector(sandbox.url, saved).check()
    assert info.external_id == demo_bind_config(sandbox.url)["kdt_id"]
    assert info.name == "Sandbox Tea House" and info.expires_at > datetime.now(UTC)


def test_y1_check_refuses_wrong_credentials_with_a_clear_error(sandbox):
    with pytest.raises(AuthError, match="store 91000001.*client_secret"):
        connector(sandbox.url, client_secret="wrong").check()


def test_token_is_cached_saved_and_not_taken_per_request(sandbox):
    saved = []
    conn = connector(sandbox.url, saved)
    before = _stats(sandbox)["token_calls"]
    records, pages = read_all(conn)
    assert len(pages) > 5 and records
    assert _stats(sandbox)["token_calls"] - before == 1
    assert saved[0]["access_token"] and saved[0]["token_expires"] > 0
    # a second connector built from the saved credentials takes no token at all
    again = connector(sandbox.url, [], **{})
    again.client.token_state = {k: saved[0][k] for k in ("access_token", "token_expires")}
    read_all(again, days=30)
    assert _stats(sandbox)["token_calls"] - before == 1


def test_token_expiry_mid_sync_refreshes_once_and_finishes(sandbox):
    saved = []
    conn = connector(sandbox.url, saved)
    stream = conn.streams()[0]
    now = datetime.now(UTC)
    pages = stream.read(SyncWindow(now - timedelta(days=365), now, True), {})
    first = next(pages)
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"expire_tokens": True})
    rest = [r for p in pages for r in p.records]
    total = len(first.records) + len(rest)
    assert total == len(read_all(connector(sandbox.url))[0])
    assert len(saved) == 2 and saved[0]["access_token"] != saved[1]["access_token"]


def test_token_refreshed_before_it_expires(sandbox):
    saved = []
    conn = connector(sandbox.url, saved)
    conn.check()
    soon = int((datetime.now(UTC) + timedelta(seconds=30)).timestamp() * 1000)
    conn.client.token_state["token_expires"] = soon
    conn.client.token_state["token_issued"] = soon - 7 * 86400 * 1000  # a week-long token
    conn.client.call("youzan.shop.get", "3.0.0", {})
    assert len(saved) == 2 and saved[1]["token_expires"] > soon


def test_4101_storm_is_retried_with_backoff(sandbox):
    conn = connector(sandbox.url)
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"throttle": 4, "errors_5xx": 1})
    records, _ = read_all(conn, days=60)
    assert records and _stats(sandbox)["faults"]["throttle"] == 0
    assert conn.context.http.waited > 0


def test_revoked_authorization_is_a_configuration_error(sandbox):
    conn = connector(sandbox.url)
    conn.check()
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"revoke": True})
    with pytest.raises(AuthError) as err:
        read_all(conn)
    assert err.value.error_class == "configuration"


def test_dedupe_by_tid_when_pages_shift(sandbox):
    clean, _ = read_all(connector(sandbox.url))
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"dup_tid": True})
    shifted, _ = read_all(connector(sandbox.url))
    ids = [r.external_id for r in shifted]
    assert len(ids) == len(set(ids)) == len(clean)


def test_resume_from_a_committed_page_state_loses_nothing(sandbox):
    everything = {r.external_id for r in read_all(connector(sandbox.url))[0]}
    conn = connector(sandbox.url)
    now = datetime.now(UTC)
    window = SyncWindow(now - timedelta(days=365), now, True)
    pages = conn.streams()[0].read(window, {})
    seen = set()
    for _ in range(3):
        page = next(pages)
        seen |= {r.external_id for r in page.records}
    resumed = connector(sandbox.url).streams()[0].read(window, page.state)
    seen |= {r.external_id for p in resumed for r in p.records}
    assert seen == everything


def test_windows_are_at_most_three_months_and_read_past_10000_orders():
    running = serve(create_app(seed=5, orders=0))
    try:
        shop = running.app.extensions["youzan_sandbox"].shop
        shop.generate(10_400, days=20)  # all inside one 3-month window
        records, pages = read_all(connector(running.url), days=365)
        ids = {r.external_id for r in records}
        taken = {t.tid for t in shop.trades.values() if t.status != "WAIT_BUYER_PAY"}
        assert ids == taken and len(ids) > 9_000
        assert len(records) == len(ids)
    finally:
        running.stop()
