"""The ``/product/*`` handlers of the sandbox: one function per path.

Each takes the sandbox state and the JSON body and returns the answer's payload (a dict merged
into ``{"errcode":0,"errmsg":"ok"}``) or ready JSON bytes; a business error is raised as
``Refused(errcode, errmsg)``. Error codes of this sandbox (HTTP 200 always):

- 40097 invalid args (a missing/ill-typed field, ``page_size`` outside 1..100, unknown status)
- 47001 data format error (a time not ``YYYY-MM-DD HH:MM:SS``)
- 10020001 order not found; 10020010 product not found
- delivery/send: 10020002 order not in status 20; 10020003 an item already shipped (more
  units than are left to ship); 10020004 an item in after-sale (``on_aftersale_sku_cnt`` > 0);
  10020005 unknown ``delivery_id``; 10020006 empty ``waybill_id``; 10020007 an item that is
  not in the order.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from typing import Any

from connectors.wechat_shop import sandbox_life as life
from connectors.wechat_shop.sandbox_data import COMPANIES, Order
from connectors.wechat_shop.sandbox_life import Refused
from connectors.wechat_shop.sandbox_render import parse_time, spu_json

MAX_PAGE_SIZE = 100
ORDER_STATUSES = (10, 20, 30, 100, 200, 250)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_FAR = 1 << 62


def _int(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or value is None:
        raise Refused(40097, f"invalid args: {name}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Refused(40097, f"invalid args: {name}") from None


def _paging(body: dict[str, Any]) -> tuple[int, int]:
    page, size = _int(body, "page", 1), _int(body, "page_size", 10)
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise Refused(40097, f"invalid args: page from 1, page_size 1..{MAX_PAGE_SIZE}")
    return page, size


def _time(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value in (None, ""):
        return default
    if not isinstance(value, str) or not _DATETIME.match(value):
        raise Refused(47001, f"data format error: {name} must be YYYY-MM-DD HH:MM:SS")
    return parse_time(value)


def _select(state: Any, body: dict[str, Any]) -> tuple[list[tuple[int, int]], int, int]:
    """The orders matching the filters, oldest created first (stable under paging, and the
    order keyset paging on ``start_create_time`` relies on): ``(base, lo, hi)``, the matches
    being ``base[lo:hi]``. ``base`` holds the orders of the update window and status, sorted
    by (create_time, order_id), cached until the shop changes; the create window is two
    bisections into it, so a page costs O(page + log N) however the client pages."""
    c = (_time(body, "start_create_time", 0), _time(body, "end_create_time", _FAR))
    u = (_time(body, "start_update_time", 0), _time(body, "end_update_time", _FAR))
    status = body.get("status")
    if status is not None and status not in ORDER_STATUSES:
        raise Refused(40097, f"invalid args: status {status!r}")
    shop = state.shop
    key = (u, status, shop.version)
    base = state.selections.get(key)
    if base is None:
        orders = shop.orders
        base = [
            pair
            for pair in shop.by_create
            if u[0] <= orders[pair[1]].update_time <= u[1]
            and (status is None or orders[pair[1]].status == status)
        ]
        if len(state.selections) > 16:
            state.selections.clear()
        state.selections[key] = base
    lo = bisect.bisect_left(base, (c[0], 0))
    hi = bisect.bisect_right(base, (c[1], _FAR))
    return base, lo, hi


def order_get_list(state: Any, body: dict[str, Any]) -> bytes:
    page, size = _paging(body)
    with state.shop.lock:
        base, lo, hi = _select(state, body)
        start = lo + (page - 1) * size
        page_orders = [state.shop.orders[oid] for _, oid in base[start : min(start + size, hi)]]
        return state.renderer.order_list(page_orders, hi - lo)


def _order(state: Any, body: dict[str, Any]) -> Order:
    order = state.shop.orders.get(_int(body, "order_id"))
    if order is None:
        raise Refused(10020001, f"order not exist: {body.get('order_id')}")
    return order


def order_get(state: Any, body: dict[str, Any]) -> bytes:
    with state.shop.lock:
        raw = state.renderer.order(_order(state, body))
    return b'{"errcode":0,"errmsg":"ok","order":' + raw + b"}"


def spu_get_list(state: Any, body: dict[str, Any]) -> dict[str, Any]:
    """SPUs by status (absent: every status but 9, which ``get_list`` never returns)."""
    page, size = _paging(body)
    status = body.get("status")
    with state.shop.lock:
        spus = [
            s
            for s in state.shop.spus.values()
            if s.status != 9 and (status is None or s.status == status)
        ]
        start = (page - 1) * size
        return {"spus": [spu_json(s) for s in spus[start : start + size]], "total_num": len(spus)}


def spu_get(state: Any, body: dict[str, Any]) -> dict[str, Any]:
    """One SPU by ``product_id``; a logically deleted one (9) still answers, with status 9."""
    with state.shop.lock:
        spu = state.shop.spus.get(_int(body, "product_id"))
        if spu is None:
            raise Refused(10020010, f"product not exist: {body.get('product_id')}")
        return {"spu": spu_json(spu)}


def company_list(state: Any, body: dict[str, Any]) -> dict[str, Any]:
    return {"company_list": [{"delivery_id": d, "delivery_name": n} for d, n in COMPANIES]}


FREIGHT_TEMPLATES = [
    {"template_id": "13800000001", "name": "全国包邮", "valuation_type": 1, "is_default": True},
    {
        "template_id": "13800000002",
        "name": "偏远地区加收",
        "valuation_type": 1,
        "is_default": False,
    },
    {"template_id": "13800000003", "name": "按重量计费", "valuation_type": 2, "is_default": False},
]


def freight_templates(state: Any, body: dict[str, Any]) -> dict[str, Any]:
    now = state.shop.now()
    rows = [
        {
            **t,
            "send_time": "SendTime_TwentyFourHour",
            "delivery_type": "EXPRESS",
            "delivery_id": ["SF", "YTO", "ZTO"],
            "shipping_method": "FREE" if t["template_id"].endswith("1") else "CONDITION_FREE",
            "all_condition_free_detail": {"condition_free_detail_list": []},
            "all_freight_calc_method": {"freight_calc_method_list": []},
            "create_time": now - 400 * 86400,
            "update_time": now - 30 * 86400,
        }
        for t in FREIGHT_TEMPLATES
    ]
    return {"template_list": rows}


def delivery_send(state: Any, body: dict[str, Any]) -> dict[str, Any]:
    deliveries = body.get("delivery_list")
    if not isinstance(deliveries, list) or not deliveries:
        raise Refused(40097, "invalid args: delivery_list")
    with state.shop.lock:
        order = _order(state, body)
        if order.status != 20:
            raise Refused(10020002, f"order status {order.status} does not allow delivery")
        if any(ln.on_aftersale_sku_cnt for ln in order.lines):
            raise Refused(10020004, "order has a product in after-sale")
        plan = [_plan(order, d) for d in deliveries]
        _check_counts(order, [i for _, _, items in plan for i in items])
        now = state.shop.now()
        for delivery_id, waybill_id, items in plan:
            life.send(state.shop, order, delivery_id, waybill_id, items, now)
            state.shipments.append(
                {
                    "order_id": str(order.order_id),
                    "delivery_id": delivery_id,
                    "waybill_id": waybill_id,
                    "items": len(items),
                }
            )
    return {}


def _plan(order: Order, d: Any) -> tuple[str, str, list[tuple[int, int, int]]]:
    if not isinstance(d, dict):
        raise Refused(40097, "invalid args: delivery_list[]")
    delivery_id, waybill = d.get("delivery_id"), d.get("waybill_id")
    if delivery_id not in {c for c, _ in COMPANIES}:
        raise Refused(10020005, f"invalid delivery_id: {delivery_id}")
    if not isinstance(waybill, str) or not waybill.strip():
        raise Refused(10020006, "waybill_id is empty")
    if d.get("is_all_product"):
        items = life.unshipped(order)
        if not items:
            raise Refused(10020003, "every product of the order is already shipped")
        return delivery_id, waybill, items
    infos = d.get("product_infos")
    if not isinstance(infos, list) or not infos:
        raise Refused(40097, "invalid args: product_infos")
    items = [(_int(i, "product_id"), _int(i, "sku_id"), _int(i, "product_cnt", 1)) for i in infos]
    return delivery_id, waybill, items


def _check_counts(order: Order, items: list[tuple[int, int, int]]) -> None:
    left = {(p, k): n for p, k, n in life.unshipped(order)}
    lines = {(ln.product_id, ln.sku_id) for ln in order.lines}
    for p, k, n in items:
        if (p, k) not in lines:
            raise Refused(10020007, f"product {p} sku {k} is not in the order")
        if n < 1 or left.get((p, k), 0) < n:
            raise Refused(10020003, f"product {p} sku {k} is already shipped")
        left[(p, k)] -= n


Handler = Callable[[Any, dict[str, Any]], "dict[str, Any] | bytes"]
APIS: dict[str, Handler] = {
    "order/get_list": order_get_list,
    "order/get": order_get,
    "spu/get_list": spu_get_list,
    "spu/get": spu_get,
    "delivery/get_company_list": company_list,
    "delivery/send": delivery_send,
    "delivery/get_freight_template": freight_templates,
}
