"""The sandbox's control API, outside WeChat's own paths (``/_sandbox/...``). Ids are strings.

- ``POST /_sandbox/orders`` {count, paid, delivery_method (0 express / 1 same city / 2
  pickup), items [{product_id, sku_id?, count}]}: create orders now → {order_ids}.
- ``POST /_sandbox/orders/<id>/<pay|ship|complete|aftersale|refund|cancel>`` {line, count}.
- ``POST /_sandbox/products`` {count, status}: new SPUs → {product_ids}.
- ``POST /_sandbox/products/<id>/delist`` (5 → 11); ``.../status`` {status}.
- ``POST /_sandbox/faults`` {errcode: -1|45009|45011 | http: 5xx | slow: seconds, count,
  path ("order/get_list"…, absent: any ``/product`` path; "cgi-bin/token": the token
  endpoint, e.g. errcode 40164 IP not whitelisted)}; {clear: true} disarms them all.
- ``POST /_sandbox/tokens`` {overlap, ttl, expire: true}; ``POST /_sandbox/clock`` {advance}.
- ``POST /_sandbox/push`` {url, order_id, event, format json|xml, duplicate, bad_signature}:
  one signed event (``duplicate``: the same order_id+Event+CreateTime twice).
- ``POST /_sandbox/push/flush`` {url, format, duplicate}: every queued change as an event.
- ``POST /_sandbox/push/verify`` {url}: WeChat's URL check (GET with ``echostr``).
- ``GET /_sandbox/truth``, ``GET /_sandbox/pushes``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from connectors.wechat_shop import sandbox_life as life
from connectors.wechat_shop.sandbox_data import Order, Spu
from connectors.wechat_shop.sandbox_push import Pusher, event_body

bp = Blueprint("wechat_shop_sandbox_control", __name__, url_prefix="/_sandbox")
_ACTIONS = {
    "pay": life.pay,
    "ship": life.ship_all,
    "complete": life.complete,
    "refund": life.refund,
    "cancel": life.cancel,
}


def _state() -> Any:
    from connectors.wechat_shop.sandbox_server import state

    return state()


def _body() -> dict[str, Any]:
    return request.get_json(silent=True) or {}


def _pusher(st: Any) -> Pusher:
    if not hasattr(st, "pusher"):
        st.pusher = Pusher()
    return st.pusher


def _order(st: Any, order_id: str) -> Order:
    try:
        return st.shop.orders.get(int(order_id)) or abort(404)
    except ValueError:
        abort(404)


def _items(st: Any, wanted: list[dict[str, Any]]) -> list[tuple[Spu, Any, int]]:
    out = []
    for w in wanted:
        spu = st.shop.spus.get(int(w["product_id"])) or abort(400, "unknown product_id")
        sku = next((s for s in spu.skus if str(s.sku_id) == str(w.get("sku_id"))), spu.skus[0])
        out.append((spu, sku, int(w.get("count", 1))))
    return out


@bp.post("/orders")
def create_orders() -> Response:
    st, body = _state(), _body()
    shop = st.shop
    with shop.lock:
        ids = []
        for _ in range(int(body.get("count", 1))):
            items = _items(st, body["items"]) if body.get("items") else None
            order = shop.make_order(shop.now() - 60, items, body.get("delivery_method"))
            if body.get("paid", True):
                life.pay(shop, order, shop.now())
            ids.append(str(order.order_id))
    return jsonify({"order_ids": ids})


@bp.post("/orders/<order_id>/<action>")
def order_action(order_id: str, action: str) -> Response:
    st, body = _state(), _body()
    shop = st.shop
    with shop.lock:
        order = _order(st, order_id)
        try:
            if action == "aftersale":
                life.aftersale(
                    shop, order, shop.now(), int(body.get("line", 0)), int(body.get("count", 1))
                )
            elif action in _ACTIONS:
                _ACTIONS[action](shop, order, shop.now())
            else:
                abort(404)
        except life.Refused as exc:
            return jsonify({"error": exc.errmsg, "errcode": exc.errcode}), 409
        return jsonify({"order_id": order_id, "status": order.status})


@bp.post("/products")
def create_products() -> Response:
    st, body = _state(), _body()
    with st.shop.lock:
        status = body.get("status", 5)
        spus = [st.shop.make_spu(st.shop.now(), status) for _ in range(int(body.get("count", 1)))]
    return jsonify({"product_ids": [str(s.product_id) for s in spus]})


@bp.post("/products/<product_id>/<action>")
def product_action(product_id: str, action: str) -> Response:
    st, body = _state(), _body()
    with st.shop.lock:
        spu = st.shop.spus.get(int(product_id)) if product_id.isdigit() else None
        if spu is None or action not in ("delist", "status"):
            abort(404)
        if action == "delist" and spu.status != 5:
            return jsonify({"error": f"status {spu.status} is not listed (5)"}), 409
        spu.status = 11 if action == "delist" else int(body["status"])
        spu.update_time = st.shop.now()
        st.shop.version += 1
        return jsonify({"product_id": product_id, "status": spu.status})


@bp.post("/faults")
def faults() -> Response:
    st, body = _state(), _body()
    with st.lock:
        if body.pop("clear", False):
            st.faults.clear()
        if any(k in body for k in ("errcode", "http", "slow")):
            st.faults.append({**body, "count": int(body.get("count", 1))})
        return jsonify({"faults": st.faults})


@bp.post("/tokens")
def tokens() -> Response:
    st, body = _state(), _body()
    with st.lock:
        if "overlap" in body:
            st.token_overlap = int(body["overlap"])
        if "ttl" in body:
            st.token_ttl = int(body["ttl"])
        if body.get("expire"):
            for entry in st.tokens.values():
                entry[0] = st.shop.now()
        return jsonify(
            {"overlap": st.token_overlap, "ttl": st.token_ttl, "fetches": st.token_fetches}
        )


@bp.post("/clock")
def clock() -> Response:
    st = _state()
    with st.shop.lock:
        st.shop.clock_offset += int(_body().get("advance", 0))
        return jsonify({"now": st.shop.now()})


@bp.post("/push")
def push_one() -> Response:
    st, body = _state(), _body()
    with st.shop.lock:
        order = _order(st, str(body.get("order_id", "")))
        event = body.get("event", "open_product_order_pay")
        msg = event_body(order, event, int(body.get("create_time") or st.shop.now()))
    return jsonify({"sent": _send(st, body, [msg])})


@bp.post("/push/flush")
def push_flush() -> Response:
    st, body = _state(), _body()
    with st.shop.lock:
        queued, st.shop.events = st.shop.events, []
        msgs = [event_body(st.shop.orders[oid], ev, at) for oid, ev, at in queued]
    return jsonify({"sent": _send(st, body, msgs)})


def _send(st: Any, body: dict[str, Any], msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    url, fmt, bad = body.get("url") or abort(400, "url"), body.get("format", "json"), False
    bad = bool(body.get("bad_signature"))
    pusher, sent = _pusher(st), []
    for msg in msgs:
        for _ in range(2 if body.get("duplicate") else 1):
            sent.append(pusher.deliver(url, msg, fmt, bad))
    return sent


@bp.post("/push/verify")
def push_verify() -> Response:
    st, body = _state(), _body()
    url = body.get("url") or abort(400, "url")
    return jsonify(_pusher(st).verify(url, st.shop.now(), bool(body.get("bad_signature"))))


@bp.get("/pushes")
def pushes() -> Response:
    return jsonify({"log": _pusher(_state()).log})


@bp.get("/truth")
def truth() -> Response:
    """Ground truth: orders by status, token fetches, API calls, shipments received, SPUs by
    status, units per product by order status, and ``units_sold`` per product (paid orders
    20/30/100, refunded units taken out: W5's figure). Ids are strings."""
    st = _state()
    with st.shop.lock:
        by_status: dict[str, int] = {}
        units: dict[str, dict[str, int]] = {}
        sold: dict[str, int] = {}  # paid (20/30/100), refunded units taken out
        for o in st.shop.orders.values():
            by_status[str(o.status)] = by_status.get(str(o.status), 0) + 1
            for ln in o.lines:
                pid = str(ln.product_id)
                per = units.setdefault(pid, {})
                per[str(o.status)] = per.get(str(o.status), 0) + ln.sku_cnt
                if o.status in (20, 30, 100):
                    sold[pid] = sold.get(pid, 0) + ln.sku_cnt - ln.finish_aftersale_sku_cnt
        spus: dict[str, int] = {}
        for s in st.shop.spus.values():
            spus[str(s.status)] = spus.get(str(s.status), 0) + 1
        return jsonify(
            {
                "orders": len(st.shop.orders),
                "orders_by_status": by_status,
                "spus_by_status": spus,
                "token_fetches": st.token_fetches,
                "api_calls": st.api_calls,
                "shipments": st.shipments,
                "units_by_product": units,
                "units_sold": sold,
                "queued_events": len(st.shop.events),
            }
        )
