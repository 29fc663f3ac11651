"""The Shopify sandbox over real HTTP (werkzeug in a thread): what a connector built against it
must cope with, as PLATFORMS.md §3.7 lists it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from flask import Flask, request

from connectors.sandbox_serving import serve
from connectors.shopify.sandbox_data import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_60D,
    CLIENT_SECRET,
)
from connectors.shopify.sandbox_server import create_app, demo_bind_config

API = "/admin/api/2025-01"
EPOCH = 1_780_000_000  # a fixed "now" for the shop: the same seed gives the same shop


class Sandbox:
    def __init__(self, running: Any) -> None:
        self.running = running
        self.url = running.url
        self.session = requests.Session()

    def get(self, path: str, token: str | None = ACCESS_TOKEN, **params: Any) -> requests.Response:
        headers = {"X-Shopify-Access-Token": token} if token else {}
        return self.session.get(f"{self.url}{path}", params=params, headers=headers, timeout=10)

    def control(self, path: str, **body: Any) -> Any:
        resp = self.session.post(f"{self.url}/_sandbox/{path}", json=body, timeout=30)
        assert resp.status_code < 400, resp.text
        return resp.json()

    def truth(self) -> dict[str, Any]:
        return self.session.get(f"{self.url}/_sandbox/truth", timeout=10).json()


@pytest.fixture
def sandbox():
    running = serve(create_app(seed=23, orders=400, epoch=EPOCH))
    yield Sandbox(running)
    running.stop()


def _next_link(resp: requests.Response) -> str | None:
    for part in resp.headers.get("Link", "").split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def test_auth_wrong_or_missing_token_is_a_real_401(sandbox: Sandbox) -> None:
    for token in (None, "shpat_wrong"):
        resp = sandbox.get(f"{API}/shop.json", token=token)
        assert resp.status_code == 401
        assert "Invalid API key or access token" in resp.json()["errors"]
    shop = sandbox.get(f"{API}/shop.json")
    assert shop.status_code == 200
    assert shop.json()["shop"]["myshopify_domain"] == demo_bind_config(sandbox.url)["shop"]
    scopes = sandbox.get("/admin/oauth/access_scopes.json").json()["access_scopes"]
    assert {"handle": "read_all_orders"} in scopes
    limited = sandbox.get("/admin/oauth/access_scopes.json", token=ACCESS_TOKEN_60D).json()
    assert {"handle": "read_all_orders"} not in limited["access_scopes"]
    assert sandbox.get("/admin/oauth/access_scopes.json", token="nope").status_code == 401


def test_versions_older_than_2024_01_are_refused(sandbox: Sandbox) -> None:
    assert sandbox.get("/admin/api/2023-10/shop.json").status_code == 404
    assert sandbox.get("/admin/api/2025-02/shop.json").status_code == 404  # not a release
    resp = sandbox.get("/admin/api/2024-01/shop.json")
    assert resp.status_code == 200
    assert resp.headers["X-Shopify-API-Version"] == "2024-01"


def test_orders_default_to_status_open_and_status_any_reads_every_order(sandbox: Sandbox) -> None:
    truth = sandbox.truth()["orders"]
    open_ids = {k for k, v in truth.items() if not v["closed"] and not v["cancelled"]}
    default = sandbox.get(f"{API}/orders/count.json").json()["count"]
    every = sandbox.get(f"{API}/orders/count.json", status="any").json()["count"]
    assert default == len(open_ids) < every == len(truth)
    cancelled = sandbox.get(f"{API}/orders/count.json", status="cancelled").json()["count"]
    assert cancelled == sum(1 for v in truth.values() if v["cancelled"]) > 0


def test_paging_follows_link_and_page_info_refuses_other_filters(sandbox: Sandbox) -> None:
    first = sandbox.get(f"{API}/orders.json", status="any", limit=250)
    assert first.status_code == 200
    seen = [o["id"] for o in first.json()["orders"]]
    assert 'rel="previous"' not in first.headers.get("Link", "")
    link = _next_link(first)
    assert link is not None
    page_info = parse_qs(urlparse(link).query)["page_info"][0]
    # the link is used exactly as given: its page_info carries status=any along
    second = sandbox.session.get(link, headers={"X-Shopify-Access-Token": ACCESS_TOKEN})
    assert second.status_code == 200
    assert 'rel="previous"' in second.headers["Link"]
    seen += [o["id"] for o in second.json()["orders"]]
    assert _next_link(second) is None  # no next link: the last page
    assert len(seen) == len(set(seen)) == len(sandbox.truth()["orders"])
    # beside page_info only limit and fields are allowed
    refused = sandbox.get(f"{API}/orders.json", page_info=page_info, status="any")
    assert refused.status_code == 400
    assert "status" in json.dumps(refused.json()["errors"])
    refused = sandbox.get(f"{API}/orders.json", page_info=page_info, updated_at_min="2025-01-01")
    assert refused.status_code == 400
    ok = sandbox.get(f"{API}/orders.json", page_info=page_info, limit=5, fields="id,name")
    assert ok.status_code == 200
    assert set(ok.json()["orders"][0]) == {"id", "name"}
    assert sandbox.get(f"{API}/orders.json", limit=251).status_code == 400
    assert sandbox.get(f"{API}/orders.json", page_info="garbage").status_code == 400


def test_updated_at_window_filters_orders(sandbox: Sandbox) -> None:
    truth = sandbox.truth()
    now = datetime.fromisoformat(truth["now"])
    since = (now - timedelta(days=30)).isoformat()
    resp = sandbox.get(f"{API}/orders.json", status="any", updated_at_min=since, limit=250)
    got = {str(o["id"]) for o in json.loads(resp.text, parse_int=str)["orders"]}
    want = {
        k
        for k, v in truth["orders"].items()
        if datetime.fromisoformat(v["updated_at"]) >= now - timedelta(days=30)
    }
    assert got == want and got
    until = (now - timedelta(days=300)).isoformat()
    old = sandbox.get(f"{API}/orders/count.json", status="any", updated_at_max=until)
    assert 0 < old.json()["count"] < len(truth["orders"])


def test_leaky_bucket_answers_429_with_retry_after_and_call_limit_header(
    sandbox: Sandbox,
) -> None:
    used = []
    for _ in range(45):
        resp = sandbox.get(f"{API}/shop.json")
        if resp.status_code == 429:
            break
        used.append(resp.headers["X-Shopify-Shop-Api-Call-Limit"])
    assert resp.status_code == 429, "40 requests in well under a second fill the bucket"
    assert len(used) >= 40
    assert used[0] == "1/40" and used[-1].endswith("/40")
    assert int(used[-1].split("/")[0]) >= 38
    assert resp.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    wait = float(resp.headers["Retry-After"])
    assert 0 < wait <= 2.0
    time.sleep(wait)  # the bucket leaks 2 a second: after Retry-After one more fits
    assert sandbox.get(f"{API}/shop.json").status_code == 200
    # another token (another app) has its own bucket
    assert sandbox.get(f"{API}/shop.json", token=ACCESS_TOKEN_60D).status_code == 200
    stats = sandbox.session.get(f"{sandbox.url}/_sandbox/stats").json()
    assert stats["throttled"] == 1


def test_ids_above_2_53_are_json_numbers_a_client_must_read_as_strings(sandbox: Sandbox) -> None:
    resp = sandbox.get(f"{API}/orders.json", status="any", limit=20)
    raw = resp.text
    exact = json.loads(raw, parse_int=str)["orders"]
    truth = sandbox.truth()["orders"]
    for order in exact:
        assert f'"id":{order["id"]},' in raw  # a bare JSON number, not a string
        assert int(order["id"]) > 2**53
        assert order["id"] in truth
    assert any(int(float(o["id"])) != int(o["id"]) for o in exact), "floats lose digits"
    line = exact[0]["line_items"][0]
    assert int(line["id"]) > 2**53 and int(line["product_id"]) > 2**53


def test_money_is_strings_with_shop_and_presentment_bags(sandbox: Sandbox) -> None:
    orders = sandbox.get(f"{API}/orders.json", status="any", limit=250).json()["orders"]
    foreign = next(o for o in orders if o["presentment_currency"] != "USD")
    for o in (orders[0], foreign):
        assert isinstance(o["total_price"], str)
        bag = o["total_price_set"]
        assert bag["shop_money"] == {"amount": o["total_price"], "currency_code": "USD"}
        assert bag["presentment_money"]["currency_code"] == o["presentment_currency"]
        assert Decimal(o["subtotal_price"]) + Decimal(o["total_tax"]) <= Decimal(o["total_price"])
        assert isinstance(o["line_items"][0]["price_set"]["shop_money"]["amount"], str)
        assert "current_quantity" in o["line_items"][0]
    assert foreign["total_price_set"]["presentment_money"]["amount"] != foreign["total_price"]


def test_orders_older_than_60_days_need_read_all_orders(sandbox: Sandbox) -> None:
    truth = sandbox.truth()["orders"]
    recent = {k for k, v in truth.items() if v["within_60_days"]}
    assert 0 < len(recent) < len(truth)
    full = sandbox.get(f"{API}/orders/count.json", status="any").json()["count"]
    limited = sandbox.get(f"{API}/orders/count.json", token=ACCESS_TOKEN_60D, status="any")
    assert (full, limited.json()["count"]) == (len(truth), len(recent))
    old = next(k for k, v in truth.items() if not v["within_60_days"])
    assert sandbox.get(f"{API}/orders/{old}.json").status_code == 200
    assert sandbox.get(f"{API}/orders/{old}.json", token=ACCESS_TOKEN_60D).status_code == 404


def test_deletions_show_in_events_with_verb_destroy(sandbox: Sandbox) -> None:
    truth = sandbox.truth()
    assert truth["deleted"]["Order"] and truth["deleted"]["Product"]
    order_id = next(iter(truth["orders"]))
    product_id = next(iter(truth["products"]))
    sandbox.control(f"orders/{order_id}/delete")
    sandbox.control(f"products/{product_id}/delete")
    resp = sandbox.get(f"{API}/events.json", verb="destroy", filter="Order,Product", limit=250)
    events = json.loads(resp.text, parse_int=str)["events"]
    destroyed = {(e["subject_type"], e["subject_id"]) for e in events}
    assert ("Order", order_id) in destroyed and ("Product", product_id) in destroyed
    for oid in truth["deleted"]["Order"]:
        assert ("Order", oid) in destroyed
    assert all(e["verb"] == "destroy" for e in events)
    assert sandbox.get(f"{API}/orders/{order_id}.json").status_code == 404
    gone = sandbox.get(f"{API}/orders.json", status="any", ids=order_id).json()["orders"]
    assert gone == []


def test_lifecycle_refund_fulfil_cancel_and_edit_through_the_control_api(
    sandbox: Sandbox,
) -> None:
    made = sandbox.control("orders", count=20, paid=True)["ids"]
    oid = next(i for i in made if len(sandbox.truth()["orders"][i]["line_items"]) > 1)

    def order() -> dict[str, Any]:
        return json.loads(sandbox.get(f"{API}/orders/{oid}.json").text, parse_int=str)["order"]

    before = order()
    assert before["financial_status"] == "paid" and before["fulfillment_status"] is None
    # an order edit removes a line: current_quantity 0, current totals down
    assert sandbox.control(f"orders/{oid}/edit")["ok"]
    edited = order()
    assert [li["current_quantity"] for li in edited["line_items"]][-1] == "0"
    assert Decimal(edited["current_total_price"]) < Decimal(before["current_total_price"])
    assert edited["updated_at"] >= before["updated_at"]
    assert sandbox.control(f"orders/{oid}/fulfill")["ok"]
    shipped = order()
    assert shipped["fulfillment_status"] == "fulfilled" and shipped["fulfillments"]
    assert sandbox.control(f"orders/{oid}/refund")["ok"]
    refunded = order()
    assert refunded["financial_status"] == "refunded"
    assert refunded["refunds"][0]["transactions"][0]["kind"] == "refund"
    assert sandbox.truth()["orders"][oid]["stage"] == "cancelled"
    other = sandbox.control("orders", count=1)["ids"][0]
    assert sandbox.control(f"orders/{other}/cancel", reason="fraud")["ok"]
    cancelled = json.loads(sandbox.get(f"{API}/orders/{other}.json").text)["order"]
    assert cancelled["cancelled_at"] and cancelled["cancel_reason"] == "fraud"
    assert cancelled["financial_status"] == "voided"


def test_customers_without_email_or_with_another_phone_on_the_address(sandbox: Sandbox) -> None:
    customers = sandbox.get(f"{API}/customers.json", limit=250).json()["customers"]
    assert any(c["email"] is None for c in customers)
    differ = [
        c
        for c in customers
        if c["default_address"]["phone"] and c["phone"] != c["default_address"]["phone"]
    ]
    assert differ
    consents = {
        c["email_marketing_consent"]["state"] for c in customers if c["email_marketing_consent"]
    }
    assert consents == {"subscribed", "not_subscribed", "unsubscribed"}
    assert "accepts_marketing" not in customers[0]  # gone from 2024-01 on


def test_abandoned_checkouts_and_products(sandbox: Sandbox) -> None:
    checkouts = sandbox.get(f"{API}/checkouts.json", limit=250).json()["checkouts"]
    assert checkouts and all(c["completed_at"] is None for c in checkouts)
    assert checkouts[0]["abandoned_checkout_url"].startswith("https://")
    n = sandbox.get(f"{API}/checkouts/count.json").json()["count"]
    sandbox.control(f"checkouts/{checkouts[0]['id']}/complete")
    assert sandbox.get(f"{API}/checkouts/count.json").json()["count"] == n - 1
    products = sandbox.get(f"{API}/products.json").json()["products"]
    assert any(not p["title"].isascii() for p in products)  # the shop's own languages
    assert {"body_html", "handle", "images", "published_scope", "vendor"} <= set(products[0])


def test_faults_5xx_slow_answers_429_storm_and_revoked_token(sandbox: Sandbox) -> None:
    sandbox.control("faults", errors_5xx=2, status_5xx=502)
    assert [sandbox.get(f"{API}/shop.json").status_code for _ in range(3)] == [502, 502, 200]
    sandbox.control("faults", slow_seconds=0.5, slow_count=1)
    t0 = time.monotonic()
    assert sandbox.get(f"{API}/shop.json").status_code == 200
    assert time.monotonic() - t0 >= 0.5
    sandbox.control("faults", storm_429=3)
    storm = [sandbox.get(f"{API}/shop.json") for _ in range(4)]
    assert [r.status_code for r in storm] == [429, 429, 429, 200]
    assert all("Retry-After" in r.headers for r in storm[:3])
    sandbox.control("faults", revoked=True)
    assert sandbox.get(f"{API}/shop.json").status_code == 401
    sandbox.control("faults", clear=True)
    assert sandbox.get(f"{API}/shop.json").status_code == 200


class Receiver:
    """A webhook endpoint that verifies Shopify's HMAC on the raw body, as the hub must."""

    def __init__(self, fail_first: int = 0) -> None:
        self.got: list[dict[str, Any]] = []
        self.fail_first = fail_first
        app = Flask("receiver")
        app.add_url_rule("/hook", view_func=self.hook, methods=["POST"])
        self.running = serve(app)
        self.url = f"{self.running.url}/hook"

    def hook(self) -> Any:
        raw = request.get_data()
        digest = hmac.new(CLIENT_SECRET.encode(), raw, hashlib.sha256).digest()
        good = hmac.compare_digest(
            base64.b64encode(digest).decode(), request.headers.get("X-Shopify-Hmac-Sha256", "")
        )
        if not good:
            return "", 401
        if self.fail_first > 0:
            self.fail_first -= 1
            return "", 500
        self.got.append({"headers": dict(request.headers), "raw": raw})
        return "", 200


def test_webhooks_are_signed_on_the_raw_body_with_duplicates_and_stale_retries(
    sandbox: Sandbox,
) -> None:
    receiver = Receiver(fail_first=1)
    try:
        sandbox.control("push", url=receiver.url, duplicate=True, stale=True)
        oid = sandbox.control("orders", count=1)["ids"][0]
        sandbox.control(f"orders/{oid}/pay")
        sandbox.control(f"orders/{oid}/delete")
        sent = sandbox.control("push/flush")["sent"]
        assert all(s["acked"] for s in sent)
        assert sent[0]["attempts"] == 2  # the first answer was a 500: retried
        topics = [g["headers"]["X-Shopify-Topic"] for g in receiver.got]
        assert {"orders/create", "orders/paid", "orders/delete"} <= set(topics)
        ids = [g["headers"]["X-Shopify-Webhook-Id"] for g in receiver.got]
        assert len(ids) > len(set(ids))  # duplicates share X-Shopify-Webhook-Id
        for g in receiver.got:
            h = g["headers"]
            for name in ("X-Shopify-Shop-Domain", "X-Shopify-Api-Version", "X-Shopify-Event-Id"):
                assert h[name]
        delete = next(g for g in receiver.got if g["headers"]["X-Shopify-Topic"] == "orders/delete")
        assert json.loads(delete["raw"], parse_int=str) == {"id": oid}
        # stale: the order's earlier deliveries arrive after its latest one, with their own
        # (older) payload and X-Shopify-Triggered-At
        hooks = [g for g in receiver.got if g["headers"]["X-Shopify-Topic"].startswith("orders/")]
        first = hooks[0]["headers"]
        assert first["X-Shopify-Topic"] == "orders/delete"
        later = hooks[2:]
        assert later and all(
            g["headers"]["X-Shopify-Triggered-At"] < first["X-Shopify-Triggered-At"] for g in later
        )
        create = next(g for g in later if g["headers"]["X-Shopify-Topic"] == "orders/create")
        assert json.loads(create["raw"])["financial_status"] == "pending"
        # a wrong secret gets 401 and is not retried; compliance topics are signed the same way
        sandbox.control("push", bad_hmac=True, duplicate=False, stale=False)
        cust = next(iter(sandbox.truth()["customers"]))
        bad = sandbox.control("push/compliance", topic="customers/redact", customer_id=cust)
        assert bad["sent"][0] == {**bad["sent"][0], "acked": False, "status": 401, "attempts": 1}
        sandbox.control("push", bad_hmac=False)
        for topic in ("customers/data_request", "customers/redact", "shop/redact"):
            ok = sandbox.control("push/compliance", topic=topic, customer_id=cust)
            assert ok["sent"][0]["acked"], topic
        redact = json.loads(receiver.got[-2]["raw"], parse_int=str)
        assert redact["customer"]["id"] == cust and "orders_to_redact" in redact
    finally:
        receiver.running.stop()


def test_same_seed_same_shop() -> None:
    a = create_app(seed=5, orders=50, epoch=EPOCH).test_client()
    b = create_app(seed=5, orders=50, epoch=EPOCH).test_client()
    assert a.get("/_sandbox/truth").json["orders"] == b.get("/_sandbox/truth").json["orders"]


def test_hub_sandbox_serves_shopify_without_registering_it(tmp_path: Path) -> None:
    """``hub sandbox shopify`` serves the simulator though shopify is not in the default list."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hub = str(Path(sys.executable).with_name("hub"))
    proc = subprocess.Popen(  # noqa: S603
        [hub, "sandbox", "shopify", "--port", str(port), "--seed", "3", "--orders", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                resp = requests.get(
                    f"http://127.0.0.1:{port}{API}/orders/count.json?status=any",
                    headers={"X-Shopify-Access-Token": ACCESS_TOKEN},
                    timeout=2,
                )
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert resp.status_code == 200 and resp.json() == {"count": 20}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_order_edit_webhook_carries_the_edit_and_uninstall_revokes(sandbox: Sandbox) -> None:
    receiver = Receiver()
    try:
        sandbox.control("push", url=receiver.url)
        truth = sandbox.truth()["orders"]
        oid = next(
            k
            for k, v in truth.items()
            if v["financial_status"] == "paid"
            and v["fulfillment_status"] is None
            and sum(1 for q in v["line_items"].values() if q) >= 2
        )
        assert sandbox.control(f"orders/{oid}/edit")["ok"]
        sandbox.control("push/flush")
        edit = next(
            json.loads(g["raw"], parse_int=str)
            for g in receiver.got
            if g["headers"]["X-Shopify-Topic"] == "orders/edited"
        )
        removal = edit["order_edit"]["line_items"]["removals"][0]
        assert edit["order_edit"]["order_id"] == oid
        assert sandbox.truth()["orders"][oid]["line_items"][removal["id"]] == 0
        # a customer with orders cannot be deleted on Shopify
        buyer = truth[oid]["customer_id"]
        if buyer:
            assert sandbox.control(f"customers/{buyer}/delete") == {"ok": False}
        sent = sandbox.control("uninstall")["sent"]
        assert sent[0]["topic"] == "app/uninstalled" and sent[0]["acked"]
        assert sandbox.get(f"{API}/shop.json").status_code == 401
    finally:
        receiver.running.stop()


def _page_all(client: Any, path: str) -> tuple[float, list[bytes]]:
    """Every page of ``path`` through the app's test client: (seconds, raw bodies)."""
    headers = {"X-Shopify-Access-Token": ACCESS_TOKEN}
    url: str | None = path
    bodies = []
    started = time.perf_counter()
    while url:
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, resp.data[:200]
        bodies.append(resp.data)
        url = None
        for part in resp.headers.get("Link", "").split(","):
            if 'rel="next"' in part:
                url = urlparse(part.split(";")[0].strip().strip("<>"))
                url = f"{url.path}?{url.query}"
    return time.perf_counter() - started, bodies


def test_paging_a_large_shop_again_serves_rendered_records_not_a_render_per_order() -> None:
    """The sandbox renders a record once while the shop stays unchanged: a second pass over
    the same pages costs a join per page (the benchmark's 100,000-order shop in seconds)."""
    app = create_app(seed=9, orders=3000, epoch=EPOCH)
    app.extensions["shopify_sandbox"].bucket_size = 10**9
    client = app.test_client()
    path = f"{API}/orders.json?status=any&limit=250"
    first, bodies = _page_all(client, path)
    again = min(_page_all(client, path)[0] for _ in range(2))
    assert _page_all(client, path)[1] == bodies  # byte for byte the same pages
    assert sum(len(json.loads(b)["orders"]) for b in bodies) > 2900
    assert again * 3 < first, (first, again)


def test_pages_follow_every_change_of_the_shop(sandbox: Sandbox) -> None:
    """Rendered records are kept only while the shop is unchanged: a listed order equals its
    fresh rendering, and an order's or its customer's change shows on the next read."""
    from connectors.shopify import sandbox_render as render

    shop = sandbox.running.app.extensions["shopify_sandbox"].shop
    listed = sandbox.get(f"{API}/orders.json", status="any", limit=250).json()["orders"]
    for got in listed[:50]:
        rec = shop.orders[got["id"]]
        fresh = render.order(rec, shop.customers.get(rec["customer_id"] or 0))
        assert got == json.loads(json.dumps(fresh))
    oid = sandbox.control("orders", count=1, paid=True)["ids"][0]
    assert sandbox.get(f"{API}/orders/{oid}.json").json()["order"]["fulfillment_status"] is None
    trimmed = {"ids": oid, "status": "any", "fields": "id,fulfillment_status"}
    assert sandbox.get(f"{API}/orders.json", **trimmed).json()["orders"] == [
        {"id": int(oid), "fulfillment_status": None}
    ]
    assert sandbox.control(f"orders/{oid}/fulfill")["ok"]
    assert sandbox.get(f"{API}/orders.json", **trimmed).json()["orders"] == [
        {"id": int(oid), "fulfillment_status": "fulfilled"}
    ]
    assert sandbox.get(f"{API}/orders/{oid}.json").json()["order"]["fulfillment_status"] == (
        "fulfilled"
    )
    listed = sandbox.get(f"{API}/orders.json", status="any", limit=250, ids=oid).json()
    assert listed["orders"][0]["fulfillment_status"] == "fulfilled"
    cid = str(shop.orders[int(oid)]["customer_id"])
    sandbox.control(f"customers/{cid}/update", first_name="Renamed")
    order = sandbox.get(f"{API}/orders/{oid}.json").json()["order"]
    assert order["customer"]["first_name"] == "Renamed"
