"""The Youzan Open API handlers of the sandbox: one function per ``api/version``.

Each takes the sandbox state and the JSON params and returns ``(payload, envelope)`` where the
envelope is "4x" (``{code:200,success:true,data}``) or "3x" (``{response}``). A business error
is raised as ``ApiError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connectors.youzan.sandbox_data import KDT_ID, OPEN_STATES, SHOP_NAME, Trade
from connectors.youzan.sandbox_render import (
    delivery_order,
    full_order_info,
    parse_time,
    refund_info,
    refund_order,
)

MAX_SPAN = 92 * 86400  # "at most 3 months"
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _int(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(5001, f"参数类型错误: {name}") from None


def _pair(params: dict[str, Any], start: str, end: str) -> tuple[int, int] | None:
    """A paired time filter; one side alone is silently ignored (as Youzan does)."""
    a, b = params.get(start), params.get(end)
    if not a or not b:
        return None
    for value, name in ((a, start), (b, end)):
        if not isinstance(value, str) or not _DATETIME.match(value):
            raise ApiError(5001, f"参数格式错误: {name} 需要 yyyy-MM-dd HH:mm:ss")
    lo, hi = parse_time(a), parse_time(b)
    if hi - lo > MAX_SPAN:
        raise ApiError(5000, f"{start}/{end} 时间跨度不能超过3个月")
    return lo, hi


def _paging(params: dict[str, Any], limit: int) -> tuple[int, int]:
    page_no, page_size = _int(params, "page_no", 1), _int(params, "page_size", 20)
    if page_size > 100:
        raise ApiError(5000, "每页最多显示100条数据")
    if page_no < 1 or page_size < 1 or page_no > 100 or page_no * page_size > limit:
        raise ApiError(5000, f"page_no 最大 100 且 page_no*page_size 不能超过 {limit}")
    return page_no, page_size


def _render(state: Any, trade: Trade) -> dict[str, Any]:
    if trade.status in OPEN_STATES:
        state.shop.served_open.add(trade.tid)
    return {"full_order_info": full_order_info(trade, state.cipher)}


def _select(state: Any, params: dict[str, Any]) -> list[Trade]:
    shop = state.shop
    upd = _pair(params, "start_update", "end_update")
    created = _pair(params, "start_created", "end_created")
    success = _pair(params, "start_success", "end_success")
    if upd:
        trades = [shop.trades[t] for t in shop.updated_between(*upd)]
    else:
        trades = list(shop.trades.values())
    if created:
        trades = [t for t in trades if created[0] <= t.created <= created[1]]
    if success:
        lo, hi = success
        trades = [t for t in trades if t.success_time and lo <= t.success_time <= hi]
    status = params.get("status")
    if status:
        wanted = "TRADE_CLOSED" if status in ("TRADE_CLOSE", "TRADE_CLOSED") else status
        trades = [t for t in trades if t.status == wanted]
    if params.get("tid"):
        trades = [t for t in trades if t.tid == params["tid"]]
    if params.get("yz_open_id"):
        trades = [t for t in trades if t.buyer.yz_open_id == params["yz_open_id"]]
    if not upd:  # sorting follows the filter present: update asc, else newest first
        key = (lambda t: t.success_time or 0) if success else (lambda t: t.created)
        trades.sort(key=key, reverse=True)
    return trades


def trades_sold_get(state: Any, params: dict[str, Any]) -> tuple[Any, str]:
    page_no, page_size = _paging(params, 10_000)
    with state.shop.lock:
        trades = _select(state, params)
        start = (page_no - 1) * page_size
        page = trades[start : start + page_size]
        if state.faults.get("dup_tid") and page_no > 1 and start - 1 < len(trades):
            page = [trades[start - 1], *page]  # a page shifted under us: same tid twice
        items = [_render(state, t) for t in page]
    return {"total_results": len(trades), "full_order_info_list": items}, "4x"


def trade_get(state: Any, params: dict[str, Any]) -> tuple[Any, str]:
    tid = params.get("tid")
    with state.shop.lock:
        trade = state.shop.trades.get(tid or "")
        lagged = state.lagged(tid) if trade else None
        if trade is None or lagged == "missing":
            raise ApiError(5000, f"交易不存在: {tid}")
        info = lagged or _render(state, trade)
        refunds = [refund_order(r) for r in trade.refunds] if not lagged else []
        deliveries = delivery_order(trade) if not lagged else []
    return {
        **info,
        "order_promotion": {},
        "refund_order": refunds,
        "delivery_order": deliveries,
    }, "4x"


def refund_search(state: Any, params: dict[str, Any]) -> tuple[Any, str]:
    page_no, page_size = _paging(params, 3000)
    now = state.shop.now()
    upd = (_int(params, "update_time_start", 0), _int(params, "update_time_end", 0))
    crt = (_int(params, "create_time_start", 0), _int(params, "create_time_end", 0))
    if not any(upd + crt) and not params.get("tid") and not params.get("refund_id"):
        upd = (now - 90 * 86400, now)  # the default: the last 3 months
    with state.shop.lock:
        trades = state.shop.trades
        if params.get("tid"):
            trades = {params["tid"]: trades[params["tid"]]} if params["tid"] in trades else {}
        rows = [r for t in trades.values() for r in t.refunds]
    if all(upd):
        rows = [r for r in rows if upd[0] <= r.modified <= upd[1]]
    if all(crt):
        rows = [r for r in rows if crt[0] <= r.created <= crt[1]]
    for key in ("refund_id", "status"):
        if params.get(key):
            rows = [r for r in rows if getattr(r, key) == params[key]]
    rows.sort(key=lambda r: (r.modified, r.refund_id))
    start = (page_no - 1) * page_size
    return {
        "refunds": [refund_info(r) for r in rows[start : start + page_size]],
        "total": len(rows),
    }, "3x"


def decrypt_single(state: Any, params: dict[str, Any]) -> tuple[Any, str]:
    source = params.get("source")
    if not isinstance(source, str):
        raise ApiError(5001, "source 必填")
    plain = state.cipher.decrypt(source)
    if plain is None:
        raise ApiError(5002, "解密失败: 密文不属于该店铺")
    return plain, "4x"


def decrypt_batch(state: Any, params: dict[str, Any]) -> tuple[Any, str]:
    sources = params.get("sources")
    if not isinstance(sources, list) or len(sources) > 10_000:
        raise ApiError(5001, "sources 必填且一次最多 10000 条")
    out = {}
    for source in sources:
        plain = state.cipher.decrypt(str(source))
        if plain is None:
            raise ApiError(5002, f"解密失败: {source}")
        out[source] = plain
    return out, "4x"


def shop_get(state: Any, params: dict[str, Any]) -> tuple[Any, str]:
    return {"id": KDT_ID, "name": SHOP_NAME, "logo": "", "intro": ""}, "3x"


# youzan.logistics.express.get 3.0.0: the carriers a shop ships with (``allExpress``).
EXPRESS = [
    (1, "申通快递"),
    (2, "圆通速递"),
    (3, "中通快递"),
    (4, "韵达快递"),
    (5, "天天快递"),
    (6, "百世快递"),
    (7, "顺丰速运"),
    (8, "邮政快递包裹"),
    (11, "EMS"),
    (12, "京东快递"),
    (13, "德邦快递"),
    (14, "极兔速递"),
]
_WAYBILL = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def express_get(state: Any, params: dict[str, Any]) -> tuple[Any, str]:
    return {"allExpress": [{"id": i, "name": n, "display": 1} for i, n in EXPRESS]}, "3x"


def logistics_confirm(state: Any, params: dict[str, Any]) -> tuple[Any, str]:
    """Ship the lines ``oids`` names (a comma-joined string; all unshipped lines when absent)
    with carrier ``out_stype`` and waybill ``out_sid`` (PLATFORMS.md §1.5)."""
    tid = params.get("tid")
    with state.shop.lock:
        trade = state.shop.trades.get(tid or "")
        if trade is None:
            raise ApiError(5000, f"交易不存在: {tid}")
        oids = _oids(params.get("oids"), trade)
        if trade.status != "WAIT_SELLER_SEND_GOODS":
            raise ApiError(102570007, "订单已发货")
        shipped = trade.shipped_oids
        if any(oid in shipped for oid in oids):
            raise ApiError(102570007, "订单已发货")
        todo = oids or [ln.oid for ln in trade.lines if ln.oid not in shipped]
        if not todo:
            raise ApiError(102570020, "没有需要发货的商品")
        express_id, waybill = _express(params)
        state.shop.deliver(trade, todo, express_id, waybill)
    return {"is_success": True}, "3x"


def _oids(value: Any, trade: Trade) -> list[str]:
    if value in (None, ""):
        return []
    oids = [o.strip() for o in str(value).split(",") if o.strip()]
    if not all(o.isdigit() for o in oids):
        raise ApiError(102599996, "oids 格式错误")
    known = {ln.oid for ln in trade.lines}
    if any(o not in known for o in oids):
        raise ApiError(5000, f"子订单不存在: {value}")
    return oids


def _express(params: dict[str, Any]) -> tuple[int, str]:
    if str(params.get("is_no_express") or "0") == "1":
        return 0, ""
    waybill = str(params.get("out_sid") or "")
    if not _WAYBILL.match(waybill):
        raise ApiError(105000003, "运单号格式错误")
    try:
        express_id = int(params.get("out_stype"))
    except (TypeError, ValueError):
        express_id = -1
    if express_id not in dict(EXPRESS):
        raise ApiError(5000, f"物流公司不存在: {params.get('out_stype')}")
    sender = params.get("outer_sender")
    if express_id == 7 and not (isinstance(sender, dict) and sender.get("sender_mobile")):
        raise ApiError(5000, "顺丰速运发货需填写寄件人手机号 outer_sender.sender_mobile")
    return express_id, waybill


Handler = Callable[[Any, dict[str, Any]], tuple[Any, str]]
APIS: dict[tuple[str, str], Handler] = {
    ("youzan.trades.sold.get", "4.0.4"): trades_sold_get,
    ("youzan.trade.get", "4.0.0"): trade_get,
    ("youzan.trade.get", "4.0.2"): trade_get,
    ("youzan.trade.refund.search", "3.0.0"): refund_search,
    ("youzan.cloud.secret.decrypt.single", "1.0.0"): decrypt_single,
    ("youzan.cloud.secret.decrypt.batch", "1.0.0"): decrypt_batch,
    ("youzan.shop.get", "3.0.0"): shop_get,
    ("youzan.logistics.online.confirm", "3.0.0"): logistics_confirm,
    ("youzan.logistics.express.get", "3.0.0"): express_get,
}
