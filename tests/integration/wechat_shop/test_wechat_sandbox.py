"""The WeChat Mini Shop sandbox over real HTTP (werkzeug in a thread): what a connector built
against it must cope with, as PLATFORMS.md §2.8 and §6 list it."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, request

from connectors.sandbox_serving import serve
from connectors.wechat_shop.sandbox_data import APPID, PUSH_TOKEN, SECRET
from connectors.wechat_shop.sandbox_server import create_app, demo_bind_config

EPOCH = 1_780_000_000  # a fixed "now" for the shop: the same seed gives the same shop
BIG = 2**53


class Sandbox:
    def __init__(self, running: Any) -> None:
        self.running = running
        self.url = running.url
        self.session = requests.Session()
        self.token = ""

    def fetch_token(self, **overrides: str) -> requests.Response:
        params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        params.update(overrides)
        resp = self.session.get(f"{self.url}/cgi-bin/token", params=params, timeout=10)
        if "access_token" in resp.json():
            self.token = resp.json()["access_token"]
        return resp

    def api(self, path: str, token: str | None = None, **body: Any) -> requests.Response:
        params = {"access_token": token if token is not None else self.token}
        url = f"{self.url}/product/{path}"
        return self.session.post(url, params=params, json=body, timeout=30)

    def control(self, where: str, /, **body: Any) -> Any:
        resp = self.session.post(f"{self.url}/_sandbox/{where}", json=body, timeout=30)
        assert resp.status_code < 400, resp.text
        return resp.json()

    def truth(self) -> dict[str, Any]:
        return self.session.get(f"{self.url}/_sandbox/truth", timeout=10).json()

    def all_orders(self, **filters: Any) -> list[dict[str, Any]]:
        out, page = [], 1
        while True:
            body = self.api("order/get_list", page=page, page_size=100, **filters).json()
            assert body["errcode"] == 0, body
            out += body["orders"]
            if page * 100 >= body["total_num"]:
                return out
            page += 1


@pytest.fixture
def sandbox():
    running = serve(create_app(seed=24, orders=600, epoch=EPOCH, products=60))
    box = Sandbox(running)
    box.fetch_token()
    yield box
    running.stop()


def _ok(resp: requests.Response) -> dict[str, Any]:
    assert resp.status_code == 200
    body = resp.json()
    assert body["errcode"] == 0, body
    return body


def _errcode(resp: requests.Response) -> int:
    assert resp.status_code == 200, resp.text  # WeChat: errors in HTTP 200
    return resp.json()["errcode"]


# ---------------------------------------------------------------- auth
def test_token_grant_errors_are_http_200_with_errcode(sandbox: Sandbox) -> None:
    assert _errcode(sandbox.fetch_token(grant_type="password")) == 40002
    assert _errcode(sandbox.fetch_token(appid="wx0000000000000000")) == 40013
    assert _errcode(sandbox.fetch_token(secret="wrong")) == 40001
    body = sandbox.fetch_token().json()
    assert body["expires_in"] == 7200 and body["access_token"]
    assert set(demo_bind_config(sandbox.url + "/")) == {"appid", "secret", "push_token", "api_base"}
    assert demo_bind_config(sandbox.url + "/")["api_base"] == sandbox.url


def test_token_refetch_revokes_previous_after_overlap(sandbox: Sandbox) -> None:
    first = sandbox.token
    before = sandbox.truth()["token_fetches"]
    sandbox.fetch_token()
    second = sandbox.token
    assert second != first
    assert sandbox.truth()["token_fetches"] == before + 1  # ground truth counts fetches
    _ok(sandbox.api("spu/get_list", token=first, page=1, page_size=1))  # within the overlap
    sandbox.control("clock", advance=301)  # the default overlap is 300 s of shop time
    assert _errcode(sandbox.api("spu/get_list", token=first, page=1, page_size=1)) == 40001
    _ok(sandbox.api("spu/get_list", token=second, page=1, page_size=1))
    sandbox.control("tokens", overlap=0)  # the knob: revoke at once
    sandbox.fetch_token()
    assert _errcode(sandbox.api("spu/get_list", token=second, page=1, page_size=1)) == 40001


def test_token_endpoint_faults_only_when_named(sandbox: Sandbox) -> None:
    sandbox.control("faults", errcode=-1, count=1)  # any /product path, not the token
    assert sandbox.fetch_token().json()["expires_in"] == 7200
    sandbox.control("faults", clear=True)
    sandbox.control("faults", errcode=40164, count=1, path="cgi-bin/token")
    assert _errcode(sandbox.fetch_token()) == 40164  # IP not whitelisted
    assert sandbox.fetch_token().json()["expires_in"] == 7200


def test_unknown_missing_and_expired_tokens(sandbox: Sandbox) -> None:
    assert _errcode(sandbox.api("order/get_list", token="nope", page=1, page_size=1)) == 40014
    assert _errcode(sandbox.api("order/get_list", token="", page=1, page_size=1)) == 41001
    sandbox.control("tokens", ttl=60)
    sandbox.fetch_token()
    sandbox.control("clock", advance=61)
    assert _errcode(sandbox.api("order/get_list", page=1, page_size=1)) == 42001


# ---------------------------------------------------------------- orders
def test_order_paging_total_num_and_stable_order(sandbox: Sandbox) -> None:
    orders = sandbox.all_orders()
    ids = [o["order_id"] for o in orders]
    assert len(ids) == len(set(ids)) == 600 == sandbox.truth()["orders"]
    assert [o["order_id"] for o in sandbox.all_orders()] == ids  # stable
    creates = [o["create_time"] for o in orders]
    assert creates == sorted(creates)
    assert _errcode(sandbox.api("order/get_list", page=1, page_size=101)) == 40097
    assert _errcode(sandbox.api("order/get_list", page=0, page_size=10)) == 40097
    bad = sandbox.api("order/get_list", page=1, page_size=10, start_update_time="2026-01-01")
    assert _errcode(bad) == 47001


def test_order_time_windows_are_shanghai_wall_time(sandbox: Sandbox) -> None:
    orders = sandbox.all_orders()
    pivot = orders[300]["create_time"]
    later = sandbox.all_orders(start_create_time=pivot, end_create_time="2099-01-01 00:00:00")
    assert min(o["create_time"] for o in later) == pivot
    assert len(later) == sum(1 for o in orders if o["create_time"] >= pivot)
    upd = orders[10]["update_time"]
    same = sandbox.all_orders(start_update_time=upd, end_update_time=upd)
    assert orders[10]["order_id"] in {o["order_id"] for o in same}
    assert all(o["update_time"] == upd for o in same)


def test_big_ids_are_exact_json_numbers(sandbox: Sandbox) -> None:
    raw = sandbox.api("order/get_list", page=1, page_size=5).text
    texts = re.findall(r'"order_id":(\d+)', raw)
    assert len(texts) == 5
    for text in texts:
        assert int(text) > BIG  # overflows a JS number
        assert str(int(float(text))) != text  # a float parse loses digits
    raw = sandbox.api("order/get", order_id=int(texts[0])).text
    assert f'"order_id":{texts[0]}' in raw
    spus = sandbox.api("spu/get_list", page=1, page_size=5).text
    assert all(int(p) > BIG for p in re.findall(r'"product_id":(\d+)', spus))


def test_order_object_shape_fen_and_address_variants(sandbox: Sandbox) -> None:
    orders = sandbox.all_orders()
    keys = set()
    methods, shipping = set(), set()
    for o in orders:
        detail = o["order_detail"]
        price = detail["price_info"]
        assert all(isinstance(price[k], int) for k in ("product_price", "order_price", "freight"))
        lines = detail["product_infos"]
        assert all(isinstance(ln["sale_price"], int) for ln in lines)
        assert price["product_price"] == sum(ln["sale_price"] * ln["sku_cnt"] for ln in lines)
        for ln in lines:
            assert {"on_aftersale_sku_cnt", "finish_aftersale_sku_cnt", "sku_attrs"} <= set(ln)
        info = detail["delivery_info"]
        keys |= {"address_info", "delivery_address_info"} & set(info)
        methods.add(info["delivery_method"])
        shipping |= {f["shipping_method"] for f in info["express_fee"]}
        assert isinstance(info["delivery_product_info"], list)
        assert {"pay_info", "price_info"} <= set(detail)
        assert {"aftersale_detail", "ext_info", "openid"} <= set(o)
    assert keys == {"address_info", "delivery_address_info"}
    assert methods == {"快递", "同城配送", "自提"}
    assert shipping == {
        "ShippingMethod_Express",
        "ShippingMethod_SameCity",
        "ShippingMethod_Pickup",
    }


def test_statuses_and_status_filter(sandbox: Sandbox) -> None:
    sandbox.control("orders", count=2, paid=False)  # fresh unpaid orders (10)
    orders = sandbox.all_orders()
    assert {o["status"] for o in orders} == {10, 20, 30, 100, 200, 250}
    for status in (20, 200):
        got = sandbox.all_orders(status=status)
        assert got and all(o["status"] == status for o in got)
        assert len(got) == sandbox.truth()["orders_by_status"][str(status)]
    # a partly shipped order stays 20 with its shipments listed
    partial = [
        o
        for o in orders
        if o["status"] == 20 and o["order_detail"]["delivery_info"]["delivery_product_info"]
    ]
    assert partial
    after = [o for o in orders if o["aftersale_detail"]["aftersale_order_list"]]
    assert any(o["status"] == 200 for o in after)


# ---------------------------------------------------------------- products
def test_spu_statuses_and_products_only_met_in_orders(sandbox: Sandbox) -> None:
    spus, page = [], 1
    while True:
        body = _ok(sandbox.api("spu/get_list", page=page, page_size=20, need_edit_spu=0))
        spus += body["spus"]
        if page * 20 >= body["total_num"]:
            break
        page += 1
    statuses = {s["status"] for s in spus}
    assert statuses == {0, 5, 6, 11, 12, 13}  # 9 (deleted) is never listed
    for spu in spus:
        assert isinstance(spu["min_price"], int)
        assert spu["min_price"] == min(k["sale_price"] for k in spu["skus"])
        assert all(
            {"sku_id", "sale_price", "stock_num", "sku_attrs"} <= set(k) for k in spu["skus"]
        )
    listed = _ok(sandbox.api("spu/get_list", status=5, page=1, page_size=100))
    assert listed["spus"] and all(s["status"] == 5 for s in listed["spus"])
    known = {s["product_id"] for s in spus}
    in_orders = {
        ln["product_id"] for o in sandbox.all_orders() for ln in o["order_detail"]["product_infos"]
    }
    unlisted = in_orders - known
    assert unlisted  # products first met in an order
    got = _ok(sandbox.api("spu/get", product_id=unlisted.pop()))
    assert got["spu"]["status"] == 9
    assert _errcode(sandbox.api("spu/get", product_id=1)) == 10020010


def test_control_products_new_delist_and_status(sandbox: Sandbox) -> None:
    pid = sandbox.control("products", count=1, status=5)["product_ids"][0]
    assert int(pid) > BIG
    assert _ok(sandbox.api("spu/get", product_id=int(pid)))["spu"]["status"] == 5
    assert sandbox.control(f"products/{pid}/delist")["status"] == 11
    assert sandbox.control(f"products/{pid}/status", status=9)["status"] == 9
    assert _ok(sandbox.api("spu/get", product_id=int(pid)))["spu"]["status"] == 9


# ---------------------------------------------------------------- shipping
def _paid_order(sandbox: Sandbox, lines: int = 2) -> dict[str, Any]:
    listed = _ok(sandbox.api("spu/get_list", status=5, page=1, page_size=10))["spus"]
    items = [{"product_id": str(s["product_id"]), "count": 2} for s in listed[:lines]]
    oid = sandbox.control("orders", items=items, delivery_method=0)["order_ids"][0]
    return _ok(sandbox.api("order/get", order_id=int(oid)))["order"]


def _infos(order: dict[str, Any], n: int | None = None) -> list[dict[str, int]]:
    return [
        {"product_id": ln["product_id"], "sku_id": ln["sku_id"], "product_cnt": n or ln["sku_cnt"]}
        for ln in order["order_detail"]["product_infos"]
    ]


def test_delivery_send_partial_then_all_moves_20_to_30(sandbox: Sandbox) -> None:
    companies = _ok(sandbox.api("delivery/get_company_list"))["company_list"]
    assert {"SF", "YTO", "ZTO", "STO", "JD", "EMS"} <= {c["delivery_id"] for c in companies}
    order = _paid_order(sandbox)
    assert order["status"] == 20
    oid, infos = order["order_id"], _infos(order)
    one = {
        "delivery_id": "SF",
        "waybill_id": "SF1",
        "is_all_product": False,
        "product_infos": infos[:1],
    }
    _ok(sandbox.api("delivery/send", order_id=oid, delivery_list=[one]))
    mid = _ok(sandbox.api("order/get", order_id=oid))["order"]
    assert mid["status"] == 20
    assert len(mid["order_detail"]["delivery_info"]["delivery_product_info"]) == 1
    assert mid["update_time"] >= order["update_time"]
    # the shipped item again: refused
    again = sandbox.api("delivery/send", order_id=oid, delivery_list=[one])
    assert _errcode(again) == 10020003
    rest = {"delivery_id": "YTO", "waybill_id": "YT2", "is_all_product": True}
    _ok(sandbox.api("delivery/send", order_id=oid, delivery_list=[rest]))
    done = _ok(sandbox.api("order/get", order_id=oid))["order"]
    assert done["status"] == 30
    shipped = done["order_detail"]["delivery_info"]["delivery_product_info"]
    assert [s["delivery_id"] for s in shipped] == ["SF", "YTO"]
    assert shipped[1]["product_infos"] == infos[1:]
    truth = sandbox.truth()["shipments"]
    assert [(s["order_id"], s["waybill_id"]) for s in truth] == [
        (str(oid), "SF1"),
        (str(oid), "YT2"),
    ]
    # an order no longer in 20: refused
    assert _errcode(sandbox.api("delivery/send", order_id=oid, delivery_list=[rest])) == 10020002


def test_delivery_send_refusals(sandbox: Sandbox) -> None:
    order = _paid_order(sandbox)
    oid = order["order_id"]

    def send(**entry: Any) -> int:
        base = {"delivery_id": "SF", "waybill_id": "SF9", "is_all_product": True}
        return _errcode(
            sandbox.api("delivery/send", order_id=oid, delivery_list=[{**base, **entry}])
        )

    assert send(delivery_id="NOPE") == 10020005
    assert send(waybill_id="") == 10020006
    assert send(waybill_id="   ") == 10020006
    wrong = [{"product_id": 1, "sku_id": 2, "product_cnt": 1}]
    assert send(is_all_product=False, product_infos=wrong) == 10020007
    assert (
        send(is_all_product=False, product_infos=_infos(order, 3)) == 10020003
    )  # more than bought
    assert _errcode(sandbox.api("delivery/send", order_id=12345, delivery_list=[{}])) == 10020001
    sandbox.control(f"orders/{oid}/aftersale", line=1, count=1)
    assert send() == 10020004
    got = _ok(sandbox.api("order/get", order_id=oid))["order"]
    assert got["order_detail"]["product_infos"][1]["on_aftersale_sku_cnt"] == 1
    assert got["status"] == 20 and not sandbox.truth()["shipments"]
    unpaid = sandbox.control("orders", paid=False)["order_ids"][0]
    body = {"delivery_id": "SF", "waybill_id": "X", "is_all_product": True}
    assert (
        _errcode(sandbox.api("delivery/send", order_id=int(unpaid), delivery_list=[body]))
        == 10020002
    )


def test_freight_templates(sandbox: Sandbox) -> None:
    rows = _ok(sandbox.api("delivery/get_freight_template", offset=0, limit=10))["template_list"]
    assert len(rows) >= 2
    assert all({"template_id", "name", "valuation_type"} <= set(r) for r in rows)


def test_control_lifecycle_moves_update_time(sandbox: Sandbox) -> None:
    oid = sandbox.control("orders", paid=False)["order_ids"][0]
    first = _ok(sandbox.api("order/get", order_id=int(oid)))["order"]
    assert first["status"] == 10
    sandbox.control("clock", advance=5)
    assert sandbox.control(f"orders/{oid}/pay")["status"] == 20
    paid = _ok(sandbox.api("order/get", order_id=int(oid)))["order"]
    assert (
        paid["update_time"] > first["update_time"]
        and paid["order_detail"]["pay_info"]["transaction_id"]
    )
    assert sandbox.control(f"orders/{oid}/ship")["status"] == 30
    assert sandbox.control(f"orders/{oid}/complete")["status"] == 100
    assert sandbox.control(f"orders/{oid}/refund")["status"] == 200
    unpaid = sandbox.control("orders", paid=False)["order_ids"][0]
    assert sandbox.control(f"orders/{unpaid}/cancel")["status"] == 250
    resp = sandbox.session.post(f"{sandbox.url}/_sandbox/orders/{unpaid}/pay", json={}, timeout=10)
    assert resp.status_code == 409
    units = sandbox.truth()["units_by_product"]
    assert all(isinstance(k, str) and int(k) > BIG for k in units)


def test_truth_units_sold_exclude_refunds_and_unpaid(sandbox: Sandbox) -> None:
    pid = sandbox.control("products", count=1, status=5)["product_ids"][0]
    item = [{"product_id": pid, "count": 3}]
    paid = sandbox.control("orders", items=item, count=3)["order_ids"]
    sandbox.control("orders", items=item, paid=False)  # unpaid (10): never counted
    sandbox.control(f"orders/{paid[0]}/refund")  # every unit refunded (200): not counted
    sandbox.control(f"orders/{paid[1]}/aftersale", count=1)
    sandbox.control(f"orders/{paid[1]}/refund")  # one unit refunded: 2 of 3 count
    truth = sandbox.truth()
    assert truth["units_sold"][pid] == 3 + 2
    assert truth["units_by_product"][pid] == {"20": 6, "200": 3, "10": 3}


# ---------------------------------------------------------------- faults
def test_faults_in_http_200_and_5xx_and_slow(sandbox: Sandbox) -> None:
    for code in (-1, 45009, 45011):
        sandbox.control("faults", errcode=code, count=2, path="order/get_list")
        _ok(sandbox.api("spu/get_list", page=1, page_size=1))  # another path: untouched
        assert _errcode(sandbox.api("order/get_list", page=1, page_size=1)) == code
        assert _errcode(sandbox.api("order/get_list", page=1, page_size=1)) == code
        _ok(sandbox.api("order/get_list", page=1, page_size=1))
    sandbox.control("faults", http=503, count=1)
    assert sandbox.api("spu/get_list", page=1, page_size=1).status_code == 503
    sandbox.control("faults", slow=0.3, count=1)
    started = time.monotonic()
    _ok(sandbox.api("spu/get_list", page=1, page_size=1))
    assert time.monotonic() - started >= 0.3
    sandbox.control("faults", errcode=-1, count=5)
    sandbox.control("faults", clear=True)
    _ok(sandbox.api("spu/get_list", page=1, page_size=1))


# ---------------------------------------------------------------- pushes
class Receiver:
    """A WeChat push receiver: verifies the sha1 signature, answers ``success``."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.refused = 0
        app = Flask("receiver")
        app.add_url_rule("/hook", view_func=self.hook, methods=["GET", "POST"])
        self.running = serve(app)
        self.url = self.running.url + "/hook"

    def _valid(self) -> bool:
        a = request.args
        parts = sorted([PUSH_TOKEN, a.get("timestamp", ""), a.get("nonce", "")])
        digest = hashlib.sha1("".join(parts).encode()).hexdigest()  # noqa: S324 (WeChat's scheme)
        return digest == a.get("signature")

    def hook(self) -> Any:
        if not self._valid():
            self.refused += 1
            return "bad signature", 403
        if request.method == "GET":
            return request.args["echostr"]
        raw = request.get_data()
        if request.mimetype == "text/xml":
            root = ET.fromstring(raw)  # noqa: S314 (the sandbox's own XML)
            body = {
                child.tag: (child.text if len(child) == 0 else {c.tag: c.text for c in child})
                for child in root
            }
            self.got.append(("xml", body))
        else:
            self.got.append(("json", json.loads(raw)))
            assert re.search(rb'"order_id":\d{17,}', raw)  # exact big number in the text
        return "success"


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.running.stop()


def test_signed_pushes_verify_json_xml_and_duplicates(sandbox: Sandbox, receiver: Receiver) -> None:
    assert sandbox.control("push/verify", url=receiver.url)["verified"] is True
    assert sandbox.control("push/verify", url=receiver.url, bad_signature=True)["verified"] is False
    oid = sandbox.control("orders", paid=True)["order_ids"][0]
    sent = sandbox.control(
        "push", url=receiver.url, order_id=oid, event="open_product_order_pay", duplicate=True
    )["sent"]
    assert [s["acked"] for s in sent] == [True, True]
    (f1, a), (f2, b) = receiver.got
    assert f1 == f2 == "json" and a == b  # the same order_id + Event + CreateTime twice
    assert a["MsgType"] == "event" and a["Event"] == "open_product_order_pay"
    assert str(a["order_info"]["order_id"]) == oid and a["order_info"]["transaction_id"]
    assert {"ToUserName", "FromUserName", "CreateTime"} <= set(a)
    sandbox.control(
        "push", url=receiver.url, order_id=oid, event="open_product_order_cancel", format="xml"
    )
    fmt, x = receiver.got[-1]
    assert fmt == "xml" and x["Event"] == "open_product_order_cancel"
    assert x["order_info"]["order_id"] == oid and x["MsgType"] == "event"
    bad = sandbox.control("push", url=receiver.url, order_id=oid, bad_signature=True)["sent"]
    assert bad[0]["acked"] is False and receiver.refused == 2
    log = sandbox.session.get(f"{sandbox.url}/_sandbox/pushes", timeout=10).json()["log"]
    assert len(log) == 4


def test_flush_pushes_every_queued_change(sandbox: Sandbox, receiver: Receiver) -> None:
    oid = sandbox.control("orders", paid=False)["order_ids"][0]
    sandbox.control(f"orders/{oid}/pay")
    sandbox.control(f"orders/{oid}/aftersale")
    sandbox.control(f"orders/{oid}/refund")
    sent = sandbox.control("push/flush", url=receiver.url)["sent"]
    events = [b["Event"] for _, b in receiver.got]
    assert events == ["open_product_order_pay", "aftersale_new_order", "open_product_order_refund"]
    assert all(s["acked"] for s in sent) and sandbox.truth()["queued_events"] == 0


# ---------------------------------------------------------------- determinism and size
def test_same_seed_same_shop() -> None:
    a = create_app(seed=5, orders=50, epoch=EPOCH).extensions["wechat_shop_sandbox"].shop
    b = create_app(seed=5, orders=50, epoch=EPOCH).extensions["wechat_shop_sandbox"].shop
    assert list(a.orders) == list(b.orders) and list(a.spus) == list(b.spus)


def test_generated_shop_has_every_order_status() -> None:
    shop = create_app(seed=9, orders=300, epoch=EPOCH).extensions["wechat_shop_sandbox"].shop
    assert {o.status for o in shop.orders.values()} == {10, 20, 30, 100, 200, 250}


def test_hub_sandbox_command_serves_the_mini_shop(tmp_path: Path) -> None:
    """``hub sandbox wechat_shop --port N --seed S --orders N`` standalone (a real process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hub = Path(sys.executable).with_name("hub")
    cmd = [
        str(hub),
        "sandbox",
        "wechat_shop",
        "--port",
        str(port),
        "--seed",
        "7",
        "--orders",
        "120",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 30
        while True:
            try:
                truth = requests.get(f"{url}/_sandbox/truth", timeout=2).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert truth["orders"] == 120
        box = Sandbox(type("Running", (), {"url": url})())
        assert box.fetch_token().json()["expires_in"] == 7200
        assert _ok(box.api("order/get_list", page=1, page_size=100))["total_num"] == 120
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_keyset_paging_on_create_time_reads_every_order_once(sandbox: Sandbox) -> None:
    """Paging by ``start_create_time`` (page 1 each time, the last second's orders left out by
    the client) reads every order once; the update-window selection is built once, not per
    request (pages cost O(page), not O(shop))."""
    state = sandbox.running.app.extensions["wechat_shop_sandbox"]
    end = {"end_update_time": "2099-01-01 00:00:00"}
    seen: list[int] = []
    since = None
    while True:
        body = {**end, "page": 1, "page_size": 50}
        if since:
            body["start_create_time"] = since
        rows = _ok(sandbox.api("order/get_list", **body))["orders"]
        fresh = [o for o in rows if o["order_id"] not in seen]
        seen += [o["order_id"] for o in fresh]
        if len(rows) < 50 or not fresh:
            break
        since = rows[-1]["create_time"]
    assert len(seen) == len(set(seen)) == 600
    assert len(state.selections) == 1
