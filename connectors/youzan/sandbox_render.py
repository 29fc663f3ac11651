"""Render sandbox trades in Youzan's shapes: ``full_order_info``, refunds, and `$…$1$` PII."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from decimal import Decimal
from typing import Any

from connectors.youzan.sandbox_data import KDT_ID, SHOP_NAME, Refund, Trade

_TZ_SHIFT = 8 * 3600  # Youzan speaks Asia/Shanghai wall time (UTC+8, no DST)
_STATUS_STR = {
    "WAIT_BUYER_PAY": "待付款",
    "WAIT_SELLER_SEND_GOODS": "待发货",
    "WAIT_BUYER_CONFIRM_GOODS": "已发货",
    "TRADE_SUCCESS": "已完成",
    "TRADE_CLOSED": "已关闭",
}


def fmt_time(epoch: int | None) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in Shanghai time; Youzan sends "" for unset times."""
    if not epoch:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch + _TZ_SHIFT))


def parse_time(text: str) -> int:
    """Inverse of ``fmt_time``; raises ValueError when the time part is missing."""
    st = time.strptime(text, "%Y-%m-%d %H:%M:%S")
    return int(_timegm(st)) - _TZ_SHIFT


def _timegm(st: time.struct_time) -> float:
    import calendar

    return calendar.timegm(st)


def yuan(amount: Decimal) -> str:
    return f"{amount:.2f}"


class Cipher:
    """Shop-scoped reversible encryption of PII: deterministic, tagged, ``$<b64>$1$``."""

    def __init__(self, seed: int) -> None:
        self.key = hashlib.sha256(f"yz-sandbox-{KDT_ID}-{seed}".encode()).digest()
        self._cache: dict[str, str] = {}

    def _stream(self, n: int, nonce: bytes) -> bytes:
        out, counter = b"", 0
        while len(out) < n:
            out += hashlib.sha256(self.key + nonce + counter.to_bytes(4, "big")).digest()
            counter += 1
        return out[:n]

    def encrypt(self, plain: str | None) -> str:
        if not plain:
            return plain or ""
        cached = self._cache.get(plain)
        if cached is None:
            data = plain.encode()
            tag = hmac.new(self.key, data, hashlib.sha256).digest()[:8]
            body = bytes(a ^ b for a, b in zip(data, self._stream(len(data), tag), strict=True))
            cached = "$" + base64.b64encode(tag + body).decode() + "$1$"
            self._cache[plain] = cached
        return cached

    def decrypt(self, source: str) -> str | None:
        """Plain text, the input itself when it is not ciphertext, or None when it is forged."""
        if not (source.startswith("$") and source.endswith("$1$")):
            return source
        try:
            raw = base64.b64decode(source[1:-3], validate=True)
        except ValueError:
            return None
        tag, body = raw[:8], raw[8:]
        data = bytes(a ^ b for a, b in zip(body, self._stream(len(body), tag), strict=True))
        good = hmac.compare_digest(hmac.new(self.key, data, hashlib.sha256).digest()[:8], tag)
        return data.decode() if good else None


def full_order_info(trade: Trade, cipher: Cipher) -> dict[str, Any]:
    """The nested 4.0.4 ``full_order_info`` of one trade."""
    b, enc = trade.buyer, cipher.encrypt
    province, city, district = b.place
    return {
        "order_info": {
            "tid": trade.tid,
            "status": trade.status,
            "status_str": _STATUS_STR.get(trade.status, trade.status),
            "type": 0,
            "created": fmt_time(trade.created),
            "update_time": fmt_time(trade.update_time),
            "pay_time": fmt_time(trade.pay_time),
            "consign_time": fmt_time(trade.consign_time),
            "success_time": fmt_time(trade.success_time),
            "expired_time": fmt_time(trade.created + 3600),
            "pay_type": 10 if trade.pay_time else 0,
            "pay_type_str": trade.pay_type_str,
            "refund_state": trade.refund_state,
            "close_type": trade.close_type,
            "express_type": 0,
            "root_kdt_id": int(KDT_ID),
            "node_kdt_id": int(KDT_ID),
            "shop_name": SHOP_NAME,
            "is_retail_order": False,
            "order_tags": {"is_payed": bool(trade.pay_time), "is_refund": bool(trade.refunds)},
            "order_extra": {"buyer_name": enc(b.name), "is_from_cart": "false"},
        },
        "buyer_info": {
            "yz_open_id": b.yz_open_id,
            "outer_user_id": b.openid or "",
            "union_id": b.unionid or "",
            "buyer_phone": enc(b.phone),
            "fans_id": 0,
            "fans_type": 1 if b.openid else 0,
            "fans_nickname": enc(b.name),
        },
        "address_info": {
            "receiver_name": enc(b.name),
            "receiver_tel": enc(b.phone),
            "delivery_province": province,
            "delivery_city": city,
            "delivery_district": district,
            "delivery_address": enc(b.address),
            "delivery_postal_code": "310000",
            "address_extra": '{"lng":120.1,"lat":30.2}',
        },
        "pay_info": {
            "total_fee": yuan(trade.total_fee),
            "post_fee": yuan(trade.post_fee),
            "payment": yuan(trade.payment),
            "real_payment": yuan(trade.payment),
            "deduction_pay": 0,
            "deduction_real_pay": 0,
            "transaction": [trade.transaction] if trade.transaction else [],
            "outer_transactions": [],
            "phase_payments": [],
        },
        "orders": [
            {
                "oid": ln.oid,
                "item_id": ln.item_id,
                "sku_id": ln.sku_id,
                "title": ln.title,
                "num": ln.num,
                "price": yuan(ln.price),
                "total_fee": yuan(ln.total_fee),
                "payment": yuan(ln.payment),
                "discount_price": yuan(ln.price),
                "outer_item_id": f"SKU-{ln.item_id}",
                "sku_properties_name": "[]",
                "item_type": 0,
                "is_present": False,
            }
            for ln in trade.lines
        ],
        "source_info": {
            "order_mark": "wx_shop",
            "is_offline_order": False,
            "source": {"platform": "wx", "wx_entrance": "direct_buy"},
        },
        "remark_info": {"buyer_message": "", "trade_memo": "", "star": 0},
        "child_info": {},
    }


def delivery_order(trade: Trade) -> list[dict[str, Any]]:
    """``youzan.trade.get``'s ``delivery_order[]``: one entry per waybill with the lines it
    covers (a trade shipped whole by the shop's own tools counts as one, without a waybill)."""
    deliveries = [(d.oids, d.express_id, d.waybill, d.at) for d in trade.deliveries]
    rest = [ln.oid for ln in trade.lines if ln.oid not in trade.shipped_oids]
    if trade.consign_time and trade.status != "WAIT_SELLER_SEND_GOODS" and rest:
        deliveries.append((rest, 0, "", trade.consign_time))
    return [
        {
            "pk_id": i + 1,
            "express_state": 1,
            "express_type": 0,
            "oids": [{"oid": oid} for oid in oids],
            "dists": [
                {"express_info": {"express_id": express_id, "express_no": waybill}},
            ],
            "created": fmt_time(at),
        }
        for i, (oids, express_id, waybill, at) in enumerate(deliveries)
    ]


def refund_order(refund: Refund) -> dict[str, Any]:
    """``youzan.trade.get``'s ``refund_order[]`` row: the refund and the lines it is about."""
    oids = [{"oid": refund.oid}] if refund.oid else []
    return {**refund_info(refund), "oids": oids}


def refund_info(refund: Refund) -> dict[str, Any]:
    """One row of ``youzan.trade.refund.search`` 3.0.0 (money yuan strings, times formatted)."""
    return {
        "refund_id": refund.refund_id,
        "tid": refund.tid,
        "status": refund.status,
        "refund_fee": yuan(refund.refund_fee),
        "created": fmt_time(refund.created),
        "modified": fmt_time(refund.modified),
        "kdt_id": int(KDT_ID),
        "node_kdt_id": int(KDT_ID),
        "return_goods": False,
        "reason": refund.reason,
        "cs_status": 1,
        "delivery_status": 0,
    }
