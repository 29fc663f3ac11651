"""The Youzan sandbox reproduces the platform's contract (PLATFORMS.md §1.8), over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from connectors.sandbox_serving import serve
from connectors.youzan.sandbox import create_app, demo_bind_config
from connectors.youzan.sandbox_render import Cipher, fmt_time


@pytest.fixture(scope="module")
def sandbox():
    running = serve(create_app(seed=7, orders=600))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _clean_faults(sandbox):
    yield
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"throttle": 0, "errors_5xx": 0, "dup_tid": False, "revoke": False},
    )


def _grant(sandbox, **over):
    cfg = demo_bind_config(sandbox.url)
    body = {
        "client_id": cfg["client_id"],
        "client_secret": cfg["client_secret"],
        "authorize_type": "silent",
        "grant_id": cfg["kdt_id"],
        "refresh": False,
        **over,
    }
    return body


def _token(sandbox, refresh=False):
    resp = requests.post(f"{sandbox.url}/auth/token", json=_grant(sandbox, refresh=refresh))
    return resp.json()["data"]


def _call(sandbox, api, params, token=None, **kw):
    query = {"access_token": token} if token else {}
    return requests.post(f"{sandbox.url}/api/{api}", params=query, json=params, **kw).json()


def test_token_is_json_only_and_expires_in_epoch_ms(sandbox):
    form = requests.post(f"{sandbox.url}/auth/token", data=_grant(sandbox))
    assert form.status_code == 200 and form.json()["code"] == 1000
    data = _token(sandbox)
    assert abs(data["expires"] / 1000 - (time.time() + 7 * 86400)) < 60
    assert data["authority_id"] == demo_bind_config(sandbox.url)["kdt_id"]


def test_token_errors_1103_and_1000(sandbox):
    wrong_client = requests.post(f"{sandbox.url}/auth/token", json=_grant(sandbox, client_id="x"))
    assert wrong_client.json()["code"] == 1103 and wrong_client.json()["success"] is False
    wrong_secret = requests.post(
        f"{sandbox.url}/auth/token", json=_grant(sandbox, client_secret="nope")
    )
    assert wrong_secret.json()["code"] == 1000


def test_refresh_false_reuses_and_refresh_true_kills_the_old_token(sandbox):
    first = _token(sandbox)["access_token"]
    assert _token(sandbox)["access_token"] == first
    second = _token(sandbox, refresh=True)["access_token"]
    assert second != first
    old = _call(sandbox, "youzan.shop.get/3.0.0", {}, token=first)
    assert old["gw_err_resp"]["err_code"] == 4203
    assert "response" in _call(sandbox, "youzan.shop.get/3.0.0", {}, token=second)


def test_gateway_errors_come_with_http_200(sandbox):
    token = _token(sandbox)["access_token"]
    missing_version = requests.post(f"{sandbox.url}/api/youzan.trades.sold.get", json={})
    assert missing_version.status_code == 200
    assert missing_version.json()["gw_err_resp"]["err_code"] == 4001
    # an unknown API is reported before the token is looked at
    assert _call(sandbox, "youzan.nope/1.0.0", {})["gw_err_resp"]["err_code"] == 4005
    bearer = _call(
        sandbox, "youzan.shop.get/3.0.0", {}, headers={"Authorization": f"Bearer {token}"}
    )
    assert bearer["gw_err_resp"]["err_code"] == 4201
    assert _call(sandbox, "youzan.shop.get/3.0.0", {}, token="x")["gw_err_resp"]["err_code"] == 4203


def test_expired_token_gives_4202_and_throttling_4101(sandbox):
    token = _token(sandbox)["access_token"]
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"throttle": 1})
    assert (
        _call(sandbox, "youzan.shop.get/3.0.0", {}, token=token)["gw_err_resp"]["err_code"] == 4101
    )
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"expire_tokens": True})
    assert (
        _call(sandbox, "youzan.shop.get/3.0.0", {}, token=token)["gw_err_resp"]["err_code"] == 4202
    )
    _token(sandbox, refresh=True)


def test_sold_get_paging_limits_and_time_rules(sandbox):
    token = _token(sandbox)["access_token"]
    now = int(time.time())
    window = {"start_update": fmt_time(now - 80 * 86400), "end_update": fmt_time(now)}
    api = "youzan.trades.sold.get/4.0.4"
    too_big = _call(sandbox, api, {**window, "page_size": 101}, token=token)
    assert too_big["code"] == 5000 and "100" in too_big["message"]
    assert (
        _call(sandbox, api, {**window, "page_no": 101, "page_size": 10}, token=token)["code"]
        == 5000
    )
    date_only = {"start_update": "2024-01-01", "end_update": "2024-01-31"}
    assert _call(sandbox, api, date_only, token=token)["code"] == 5001
    span = {"start_update": fmt_time(now - 120 * 86400), "end_update": fmt_time(now)}
    assert _call(sandbox, api, span, token=token)["code"] == 5000
    paired = _call(sandbox, api, {**window, "page_size": 100}, token=token)["data"]
    unpaired = _call(sandbox, api, {"start_update": window["start_update"]}, token=token)["data"]
    assert unpaired["total_results"] == 600 > paired["total_results"]  # one side is ignored
    times = [
        x["full_order_info"]["order_info"]["update_time"] for x in paired["full_order_info_list"]
    ]
    assert times == sorted(times)


def test_both_spellings_of_closed_filter_and_pii_is_encrypted(sandbox):
    token = _token(sandbox)["access_token"]
    api = "youzan.trades.sold.get/4.0.4"
    a = _call(sandbox, api, {"status": "TRADE_CLOSE"}, token=token)["data"]
    b = _call(sandbox, api, {"status": "TRADE_CLOSED"}, token=token)["data"]
    assert a["total_results"] == b["total_results"] > 0
    info = b["full_order_info_list"][0]["full_order_info"]
    name = info["address_info"]["receiver_name"]
    assert name.startswith("$") and name.endswith("$1$")
    plain = _call(
        sandbox, "youzan.cloud.secret.decrypt.single/1.0.0", {"source": name}, token=token
    )["data"]
    assert plain and "$" not in plain
    forged = Cipher(seed=999).encrypt("someone else")
    bad = _call(
        sandbox, "youzan.cloud.secret.decrypt.single/1.0.0", {"source": forged}, token=token
    )
    assert bad["success"] is False


def test_v3_apis_use_the_response_envelopes(sandbox):
    token = _token(sandbox)["access_token"]
    ok = _call(sandbox, "youzan.trade.refund.search/3.0.0", {"page_size": 5}, token=token)
    assert set(ok) == {"response"} and "refunds" in ok["response"]
    err = _call(sandbox, "youzan.trade.refund.search/3.0.0", {"page_size": 500}, token=token)
    assert set(err) == {"error_response"} and err["error_response"]["code"] == 5000
