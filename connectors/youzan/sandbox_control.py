"""The sandbox's control API, outside Youzan's own paths (``/_sandbox/...``).

- ``POST /_sandbox/orders`` {count, paid}: create orders now.
- ``POST /_sandbox/orders/<tid>/<pay|ship|succeed|refund|close>`` {amount}: one transition
  (``ship`` with {oids}: those lines only, a partial shipment made outside the hub).
- ``POST /_sandbox/orders/<tid>/after_sale`` {oid}: the buyer opens an after-sale case on a
  line (a refund awaiting the seller), which the hub must not ship over (W8).
- ``POST /_sandbox/advance`` {changes}: that many random lifecycle steps (new orders included).
- ``POST /_sandbox/push`` {url, duplicate, reorder, retry_delays, bad_sign}: push settings.
- ``POST /_sandbox/push/flush``: deliver every pending change as a signed push, at once.
- ``POST /_sandbox/faults`` {throttle, errors_5xx, dup_tid, lag_seconds, token_ttl_ms,
  expire_tokens, revoke, authority_id, denied_apis}: inject faults (authority_id: the store
  the token answer names instead of the sandbox's own; token_ttl_ms: the lifetime of the
  tokens taken from now on; denied_apis: API names answered with gateway error 4204, the app
  lacking permission for them, as for a store that granted only part of the API).
- ``GET /_sandbox/stats``, ``GET /_sandbox/pushes``, ``GET /_sandbox/truth`` (and its
  ``shipments``: per tid, the waybills sent back with the lines they cover).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, jsonify, request

from connectors.youzan.sandbox_data import OPEN_STATES, Trade
from connectors.youzan.sandbox_push import Pusher
from connectors.youzan.sandbox_render import full_order_info, yuan

bp = Blueprint("youzan_sandbox_control", __name__, url_prefix="/_sandbox")
_NORMAL = {
    "WAIT_SELLER_SEND_GOODS": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "TRADE_SUCCESS": "completed",
    "TRADE_CLOSED": "closed",
}


def _state() -> Any:
    from connectors.youzan.sandbox import state

    return state()


def _pusher(st: Any) -> Pusher:
    if not hasattr(st, "pusher"):
        st.pusher = Pusher(st.shop.seed)
    return st.pusher


def _body() -> dict[str, Any]:
    return request.get_json(silent=True) or {}


def _snapshot(st: Any, trade: Trade | None, tid: str) -> None:
    """With query lag on, keep what the query APIs still show for a while."""
    lag = float(st.faults.get("lag_seconds", 0) or 0)
    if lag > 0:
        old = {"full_order_info": full_order_info(trade, st.cipher)} if trade else None
        st.shop.snapshots[tid] = (time.monotonic() + lag, old)


def _step(st: Any, trade: Trade, action: str, amount: Decimal | None = None) -> bool:
    """Apply one transition if the trade's state allows it."""
    shop, now, s = st.shop, st.shop.now(), trade.status
    allowed = {
        "pay": s == "WAIT_BUYER_PAY",
        "ship": s == "WAIT_SELLER_SEND_GOODS",
        "succeed": s == "WAIT_BUYER_CONFIRM_GOODS",
        "close": s in ("WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS"),
        "refund": s == "TRADE_SUCCESS" and trade.refunded < trade.payment,
    }
    if not allowed.get(action):
        return False
    _snapshot(st, trade, trade.tid)
    if action == "close" and trade.pay_time:
        shop.refund(trade, trade.payment, now, close=True)
    elif action == "close":
        shop.close(trade, now, close_type=1)
    elif action == "refund":
        shop.refund(trade, amount or (trade.payment / 2).quantize(Decimal("0.01")), now)
    else:
        getattr(shop, action)(trade, now)
    return True


def _create(st: Any, paid: bool) -> Trade:
    shop = st.shop
    trade = shop.make_trade(shop.now() - 60)
    _snapshot(st, None, trade.tid)
    shop.changes.append((trade.tid, "trade_TradeCreate", trade.status, shop.version(trade)))
    if paid:
        shop.pay(trade, shop.now())
    return trade


@bp.post("/orders")
def create_orders():
    st, body = _state(), _body()
    with st.shop.lock:
        paid, count = bool(body.get("paid", True)), int(body.get("count", 1))
        tids = [_create(st, paid).tid for _ in range(count)]
    return jsonify({"tids": tids})


@bp.post("/orders/<tid>/after_sale")
def order_after_sale(tid: str):
    st = _state()
    with st.shop.lock:
        trade = st.shop.trades.get(tid) or abort(404)
        if trade.status not in ("WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS"):
            return jsonify({"error": f"after_sale not allowed in {trade.status}"}), 409
        _snapshot(st, trade, tid)
        refund = st.shop.after_sale(trade, _body().get("oid"))
    return jsonify({"tid": tid, "refund_id": refund.refund_id, "oid": refund.oid})


@bp.post("/orders/<tid>/<action>")
def order_action(tid: str, action: str):
    st = _state()
    amount, oids = _body().get("amount"), _body().get("oids")
    with st.shop.lock:
        trade = st.shop.trades.get(tid) or abort(404)
        if action == "ship" and oids and trade.status == "WAIT_SELLER_SEND_GOODS":
            _snapshot(st, trade, tid)  # the shop ships some lines with its own tools
            st.shop.deliver(trade, [str(o) for o in oids], 7, "SANDBOX-" + tid[-6:])
            return jsonify({"tid": tid, "status": trade.status})
        done = _step(st, trade, action, Decimal(str(amount)) if amount else None)
    if not done:
        return jsonify({"error": f"{action} not allowed in {trade.status}"}), 409
    return jsonify({"tid": tid, "status": trade.status})


@bp.post("/advance")
def advance():
    """Move the shop forward by ``changes`` random steps on distinct orders (20% new ones)."""
    st, want = _state(), int(_body().get("changes", 100))
    shop, changed = st.shop, []
    with shop.lock:
        pool = [t for t in shop.trades.values() if t.status != "TRADE_CLOSED"]
        shop.rng.shuffle(pool)
        for trade in pool:
            if len(changed) >= want:
                break
            if shop.rng.random() < 0.2:
                changed.append(_create(st, paid=shop.rng.random() < 0.8).tid)
            elif _step(st, trade, _pick(shop.rng, trade)):
                changed.append(trade.tid)
    return jsonify({"changed": changed})


def _pick(rng: Any, trade: Trade) -> str:
    nxt = {
        "WAIT_BUYER_PAY": "pay",
        "WAIT_SELLER_SEND_GOODS": "ship",
        "WAIT_BUYER_CONFIRM_GOODS": "succeed",
        "TRADE_SUCCESS": "refund",
    }
    action = nxt.get(trade.status, "")
    if trade.status in ("WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS") and rng.random() < 0.2:
        action = "close"
    return action


@bp.post("/push")
def push_settings():
    pusher, body = _pusher(_state()), _body()
    for key, value in body.items():
        if hasattr(pusher.settings, key):
            setattr(pusher.settings, key, value)
    return jsonify(vars(pusher.settings))


@bp.post("/push/flush")
def push_flush():
    st = _state()
    with st.shop.lock:
        changes, st.shop.changes = st.shop.changes, []
    return jsonify({"sent": _pusher(st).flush(changes)})


@bp.get("/pushes")
def pushes():
    return jsonify({"log": _pusher(_state()).log})


@bp.post("/faults")
def faults():
    st, body = _state(), _body()
    if body.pop("expire_tokens", False):
        st.expire_tokens()
    if "revoke" in body:
        st.revoked = bool(body.pop("revoke"))
    with st.lock:
        st.faults.update(body)
        return jsonify({"faults": st.faults, "revoked": st.revoked})


@bp.get("/stats")
def stats():
    st = _state()
    return jsonify(
        {
            "api_calls": st.api_calls,
            "token_calls": st.token_calls,
            "orders": len(st.shop.trades),
            "faults": st.faults,
        }
    )


@bp.get("/truth")
def truth():
    """What the hub should hold: every order it saw open (or can see open now), per Y7."""
    st = _state()
    with st.shop.lock:
        seen = st.shop.served_open | {
            t.tid for t in st.shop.trades.values() if t.status in OPEN_STATES
        }
        orders = {tid: _expected(st.shop.trades[tid]) for tid in sorted(seen)}
        shipments = {
            t.tid: [
                {"oids": d.oids, "express_id": d.express_id, "waybill": d.waybill}
                for d in t.deliveries
            ]
            for t in st.shop.trades.values()
            if t.deliveries
        }
    return jsonify({"orders": orders, "shipments": shipments})


def _expected(trade: Trade) -> dict[str, Any]:
    closed = trade.status == "TRADE_CLOSED"
    refunded = Decimal(0) if closed else trade.refunded
    return {
        "status": _NORMAL[trade.status],
        "amount_total": yuan(trade.total_fee),
        "amount_paid": yuan(Decimal(0) if closed else trade.payment - refunded),
        "refunded": yuan(refunded),
        "lines": len(trade.lines),
        "buyer": trade.buyer.yz_open_id,
        "events": {
            "purchase": 1,
            "return": 0 if closed else len(trade.refunds),
            "cancel": 1 if closed else 0,
        },
    }
