"""The sandbox's control API, outside Shopify's own paths (``/_sandbox/...``).

- ``POST /_sandbox/orders`` {count, customer_id, paid}: create orders now.
- ``POST /_sandbox/orders/<id>/<action>``: pay, fulfill, fulfill_partial, refund,
  refund_partial, cancel {reason}, close, edit (remove a line), delete.
- ``POST /_sandbox/customers`` {email, phone, address_phone}: create a customer;
  ``POST /_sandbox/customers/<id>/update`` {email, phone, first_name, ...};
  ``POST /_sandbox/customers/<id>/delete`` (refused, ok false, while the customer has orders).
- ``POST /_sandbox/products/<id>/update`` {title, body_html, price}; ``.../delete``.
- ``POST /_sandbox/checkouts`` {customer_id, hours_ago}: a new abandoned checkout;
  ``POST /_sandbox/checkouts/<id>/complete``: the buyer came back (recovered): the checkout
  becomes an order whose ``checkout_token`` is its token ({order_id}).
- ``POST /_sandbox/advance`` {changes}: that many random lifecycle steps.
- ``POST /_sandbox/faults`` {errors_5xx, status_5xx, slow_seconds, slow_count, storm_429,
  revoked, clear}: inject faults (counts are "the next N requests").
- ``POST /_sandbox/limits`` {bucket_size, leak_rate}: the leaky bucket (Shopify: 40, 2/s).
- ``POST /_sandbox/tokens`` {scopes}: a new access token with those scopes.
- ``POST /_sandbox/push`` {url, duplicate, stale, retry_delays, timeout, bad_hmac};
  ``POST /_sandbox/push/flush``: deliver every pending webhook now;
  ``POST /_sandbox/push/compliance`` {topic, customer_id}: one compliance webhook.
- ``POST /_sandbox/uninstall``: the app is uninstalled (tokens die, ``app/uninstalled``).
- ``GET /_sandbox/stats``, ``GET /_sandbox/pushes``, ``GET /_sandbox/truth``.

Ids in control bodies and answers are strings (they exceed 2^53).
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, jsonify, request

from connectors.shopify import sandbox_render as render
from connectors.shopify.sandbox_data import (
    DAY,
    SHOP_DOMAIN,
    SHOP_ID,
    SHOP_NAME,
    WINDOW_DAYS,
    expected_stage,
)
from connectors.shopify.sandbox_push import COMPLIANCE_TOPICS, Pusher, compliance_body, delivery

bp = Blueprint("shopify_sandbox_control", __name__, url_prefix="/_sandbox")

_ORDER_ACTIONS = {
    "pay": lambda shop, oid, body, now: shop.pay(oid, now),
    "fulfill": lambda shop, oid, body, now: shop.fulfill(oid, False, now),
    "fulfill_partial": lambda shop, oid, body, now: shop.fulfill(oid, True, now),
    "refund": lambda shop, oid, body, now: shop.refund(oid, True, now),
    "refund_partial": lambda shop, oid, body, now: shop.refund(oid, False, now),
    "cancel": lambda shop, oid, body, now: shop.cancel(oid, body.get("reason", "customer"), now),
    "close": lambda shop, oid, body, now: shop.close(oid, now),
    "edit": lambda shop, oid, body, now: shop.edit_remove_line(oid, now),
    "delete": lambda shop, oid, body, now: shop.delete("Order", oid, now),
}


def _state() -> Any:
    from connectors.shopify.sandbox_server import state

    return state()


def pusher(st: Any) -> Pusher:
    if not hasattr(st, "pusher"):
        st.pusher = Pusher()
        st.outbox = []
    return st.pusher


def _body() -> dict[str, Any]:
    return request.get_json(silent=True) or {}


def _id(raw: Any) -> int:
    try:
        return int(str(raw))
    except ValueError:
        abort(400)


def drain(st: Any) -> None:
    """Render the shop's new changes into webhook deliveries now, so a late retry carries the
    payload of its own time (as Shopify's retries do)."""
    pusher(st)
    shop = st.shop
    for topic, kind, rid, at in shop.changes:
        if topic.endswith("/delete"):
            body: dict[str, Any] = {"id": rid}
        elif kind == "order" and rid in shop.orders:
            o = shop.orders[rid]
            body = render.order(o, shop.customers.get(o["customer_id"] or 0))
        elif kind == "order_edit" and rid in shop.orders and shop.orders[rid].get("edits"):
            body = render.order_edit(shop.orders[rid], shop.orders[rid]["edits"][-1])
        elif kind == "refund" and rid in shop.orders and shop.orders[rid]["refunds"]:
            body = render.refund(shop.orders[rid], shop.orders[rid]["refunds"][-1])
        elif kind == "customer" and rid in shop.customers:
            body = render.customer(shop.customers[rid])
        elif kind == "product" and rid in shop.products:
            body = render.product(shop.products[rid])
        elif kind == "checkout" and rid in shop.checkouts:
            c = shop.checkouts[rid]
            body = render.checkout(c, shop.customers.get(c["customer_id"] or 0))
        else:
            continue
        st.outbox.append(delivery(topic, body, _utc(at)))
    shop.changes.clear()


def _utc(at: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@bp.post("/orders")
def create_orders():
    st, body = _state(), _body()
    shop = st.shop
    made = []
    with shop.lock:
        for _ in range(int(body.get("count", 1))):
            cid = _id(body["customer_id"]) if body.get("customer_id") else None
            if cid is None and shop.customers:
                cid = shop.rng.choice(list(shop.customers))
            order = shop.add_order(cid, shop.now())
            if body.get("paid"):
                shop.pay(order["id"], shop.now())
            made.append(str(order["id"]))
        drain(st)
    return jsonify({"ids": made})


@bp.post("/orders/<oid>/<action>")
def order_action(oid: str, action: str):
    st, body = _state(), _body()
    if action not in _ORDER_ACTIONS:
        abort(404)
    with st.shop.lock:
        if _id(oid) not in st.shop.orders:
            abort(404)
        ok = _ORDER_ACTIONS[action](st.shop, _id(oid), body, st.shop.now())
        drain(st)
    return jsonify({"ok": bool(ok)})


@bp.post("/customers")
def create_customer():
    st, body = _state(), _body()
    with st.shop.lock:
        c = st.shop.add_customer(st.shop.now())
        for key in ("email", "phone", "first_name", "last_name", "note"):
            if key in body:
                c[key] = body[key]
        if "address_phone" in body:
            c["address"]["phone"] = body["address_phone"]
        drain(st)
    return jsonify({"id": str(c["id"])})


@bp.post("/customers/<cid>/<action>")
def customer_action(cid: str, action: str):
    st, body = _state(), _body()
    shop = st.shop
    with shop.lock:
        c = shop.customers.get(_id(cid))
        if c is None:
            abort(404)
        if action == "delete":
            ok = shop.delete("Customer", c["id"], shop.now())
        elif action == "update":
            for key in ("email", "phone", "first_name", "last_name", "note", "tags"):
                if key in body:
                    c[key] = body[key]
            if "consent" in body:
                c["consent"] = body["consent"]
            c["updated"] = max(c["updated"] + 1, shop.now())
            shop._change("customers/update", "customer", c["id"], c["updated"])
            ok = True
        else:
            abort(404)
        drain(st)
    return jsonify({"ok": ok})


@bp.post("/products/<pid>/<action>")
def product_action(pid: str, action: str):
    st, body = _state(), _body()
    shop = st.shop
    with shop.lock:
        p = shop.products.get(_id(pid))
        if p is None:
            abort(404)
        if action == "delete":
            ok = shop.delete("Product", p["id"], shop.now())
        elif action == "update":
            for key in ("title", "body_html", "vendor", "product_type", "tags"):
                if key in body:
                    p[key] = body[key]
            if "price" in body:
                p["price"] = Decimal(str(body["price"]))
            p["updated"] = max(p["updated"] + 1, shop.now())
            shop._change("products/update", "product", p["id"], p["updated"])
            ok = True
        else:
            abort(404)
        drain(st)
    return jsonify({"ok": ok})


@bp.post("/checkouts")
def create_checkout():
    st, body = _state(), _body()
    with st.shop.lock:
        cid = _id(body["customer_id"]) if body.get("customer_id") else None
        # ``hours_ago``: a cart left that long ago (Shopify lists it as abandoned at once)
        at = st.shop.now() - int(float(body.get("hours_ago") or 0) * 3600)
        c = st.shop.add_checkout(cid, at)
        drain(st)
    return jsonify({"id": str(c["id"])})


@bp.post("/checkouts/<cid>/complete")
def complete_checkout(cid: str):
    st = _state()
    with st.shop.lock:
        order = st.shop.abandon_recovered(_id(cid), st.shop.now())
        drain(st)
    return jsonify({"ok": order is not None, "order_id": str(order["id"]) if order else None})


@bp.post("/advance")
def advance():
    """Random lifecycle steps, new orders included, at the shop's current time."""
    st = _state()
    shop = st.shop
    n = int(_body().get("changes", 10))
    done = 0
    with shop.lock:
        for _ in range(n * 5):
            if done >= n:
                break
            now = shop.now()
            if shop.rng.random() < 0.25 or not shop.orders:
                shop.add_order(shop.rng.choice(list(shop.customers)), now)
                done += 1
                continue
            oid = shop.rng.choice(list(shop.orders)[-200:])
            action = shop.rng.choice(list(_ORDER_ACTIONS))
            if action == "delete" and shop.rng.random() < 0.8:
                continue
            if _ORDER_ACTIONS[action](shop, oid, {}, now):
                done += 1
        drain(st)
    return jsonify({"changes": done})


@bp.post("/faults")
def faults():
    st, body = _state(), _body()
    with st.lock:
        if body.get("clear"):
            st.faults.clear()
        for key in ("errors_5xx", "status_5xx", "slow_seconds", "slow_count", "storm_429"):
            if key in body:
                st.faults[key] = body[key]
        if "revoked" in body:
            st.faults["revoked"] = bool(body["revoked"])
        return jsonify(dict(st.faults))


@bp.post("/limits")
def limits():
    st, body = _state(), _body()
    with st.lock:
        st.bucket_size = int(body.get("bucket_size", st.bucket_size))
        st.leak_rate = float(body.get("leak_rate", st.leak_rate))
        st.buckets.clear()
        return jsonify({"bucket_size": st.bucket_size, "leak_rate": st.leak_rate})


@bp.post("/tokens")
def tokens():
    st, body = _state(), _body()
    token = "shpat_" + secrets.token_hex(16)
    with st.lock:
        st.tokens[token] = set(body.get("scopes") or [])
    return jsonify({"access_token": token, "scope": ",".join(sorted(st.tokens[token]))})


@bp.post("/push")
def push_settings():
    st, body = _state(), _body()
    settings = pusher(st).settings
    for key in ("url", "duplicate", "stale", "retry_delays", "timeout", "bad_hmac"):
        if key in body:
            setattr(settings, key, body[key])
    return jsonify(vars(settings))


@bp.post("/push/flush")
def push_flush():
    st = _state()
    p = pusher(st)
    with st.shop.lock:
        drain(st)
        items, st.outbox = list(st.outbox), []
    return jsonify({"sent": p.send_all(items)})


@bp.post("/uninstall")
def uninstall():
    """The merchant uninstalls the app: every token dies and ``app/uninstalled`` is sent."""
    st = _state()
    with st.lock:
        st.faults["revoked"] = True
    body = {
        "id": SHOP_ID,
        "name": SHOP_NAME,
        "domain": SHOP_DOMAIN,
        "myshopify_domain": SHOP_DOMAIN,
    }
    d = delivery("app/uninstalled", body, _utc(st.shop.now()))
    return jsonify({"sent": [pusher(st).deliver(d)] if pusher(st).settings.url else []})


@bp.post("/push/compliance")
def push_compliance():
    st, body = _state(), _body()
    topic = body.get("topic")
    if topic not in COMPLIANCE_TOPICS:
        abort(400)
    shop = st.shop
    with shop.lock:
        cust = shop.customers.get(_id(body["customer_id"])) if body.get("customer_id") else None
        orders = [oid for oid, o in shop.orders.items() if cust and o["customer_id"] == cust["id"]]
        payload = compliance_body(topic, cust, orders)
        d = delivery(topic, payload, _utc(shop.now()))
    return jsonify({"sent": [pusher(st).deliver(d)]})


@bp.get("/pushes")
def pushes():
    return jsonify(pusher(_state()).log)


@bp.get("/stats")
def stats():
    st = _state()
    with st.lock:
        return jsonify(dict(st.stats))


@bp.get("/truth")
def truth():
    """What a faithful sync must end with: every live record (ids as strings), the expected
    deal stage of each order, the deletions, and which orders a token without
    read_all_orders cannot see."""
    st = _state()
    shop = st.shop
    with shop.lock:
        window = shop.now() - WINDOW_DAYS * DAY
        orders = {
            str(oid): {
                "name": f"#{o['order_number']}",
                "customer_id": str(o["customer_id"]) if o["customer_id"] else None,
                "email": o["email"] or None,
                "financial_status": o["financial_status"],
                "fulfillment_status": o["fulfillment_status"],
                "cancelled": bool(o["cancelled_at"]),
                "closed": bool(o["closed_at"]),
                "stage": expected_stage(o),
                "total_price": render.order(o, None)["total_price"],
                "current_total_price": render.order(o, None)["current_total_price"],
                "refunded": str(sum((r["amount"] for r in o["refunds"]), Decimal(0))),
                "line_items": {str(ln["id"]): ln["current_quantity"] for ln in o["lines"]},
                "within_60_days": o["created"] >= window,
                "updated_at": render.iso(o["updated"]),
            }
            for oid, o in shop.orders.items()
        }
        customers = {
            str(cid): {
                "email": c["email"],
                "phone": c["phone"],
                "address_phone": c["address"]["phone"],
                "email_marketing_consent": c["consent"] if c["email"] else None,
                "orders_count": c["orders_count"],
            }
            for cid, c in shop.customers.items()
        }
        return jsonify(
            {
                "now": render.iso(shop.now()),
                "orders": orders,
                "customers": customers,
                "products": {str(pid): p["title"] for pid, p in shop.products.items()},
                "checkouts": {
                    str(cid): {"email": c["email"], "completed": bool(c["completed_at"])}
                    for cid, c in shop.checkouts.items()
                },
                "deleted": {k: [str(i) for i in v] for k, v in shop.deleted.items()},
            }
        )
