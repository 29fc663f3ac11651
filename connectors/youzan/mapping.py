"""Pure mapping of Youzan's ``full_order_info`` to canonical records, exactly per seed 000's
tables (Y6), the four taken states (Y7) and the buyer identity priority (Y8).

Youzan times are ``yyyy-MM-dd HH:mm:ss`` Shanghai wall time; money is yuan strings.
PII arrives as ``$…$1$`` ciphertext: the caller passes ``plain`` (ciphertext -> plain text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.core.records import Consignee, CustomerRecord, LineRecord, OrderRecord, RefundRecord

PLATFORM = "youzan"
SALES_CHANNEL = "Youzan"
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
# Only these four platform states are taken (Y7); every other state is skipped.
STATUS_MAP = {
    "WAIT_SELLER_SEND_GOODS": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "TRADE_SUCCESS": "completed",
    "TRADE_CLOSED": "closed",
}
# Buyer identities in matching priority (Y8): yz_open_id > WeChat openid > WeChat unionid.
IDENTITY_FIELDS = (
    ("yz_open_id", "yz_open_id"),
    ("wx_openid", "outer_user_id"),
    ("wx_unionid", "union_id"),
)
PII_FIELDS = ("receiver_name", "receiver_tel", "delivery_address")

Plain = Callable[[str], str | None]


class MappingError(ValueError):
    """A payload that cannot be mapped; the message names the tid and the field."""


def is_cipher(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$") and value.endswith("$1$")


def ciphertexts(infos: Iterable[Mapping[str, Any]]) -> set[str]:
    """The encrypted PII values a batch of ``full_order_info`` needs decrypted."""
    out = set()
    for info in infos:
        address = info.get("address_info") or {}
        out.update(v for f in PII_FIELDS if is_cipher(v := address.get(f)))
    return out


def parse_time(value: str | None, *, tid: str = "", field: str = "") -> datetime | None:
    """Shanghai wall time ``yyyy-MM-dd HH:mm:ss`` to an aware UTC datetime; "" is None."""
    if not value:
        return None
    try:
        if len(value) != 19 or value[4] + value[7] + value[10] + value[13] + value[16] != "-- ::":
            raise ValueError(value)
        return datetime.fromisoformat(value + "+08:00").astimezone(UTC)
    except (ValueError, TypeError):
        raise MappingError(f"trade {tid}: {field} {value!r} is not yyyy-MM-dd HH:mm:ss") from None


_CENT = Decimal("0.01")


def money(value: Any, *, tid: str = "", field: str = "", line: str | None = None) -> Decimal | None:
    """Yuan as a Decimal with two places (Youzan sends strings such as ``"12.30"``). An error
    names ``field``, inside ``orders[line]`` when ``line`` is given."""
    if value in (None, ""):
        return None
    try:
        if value.__class__ is str and len(value) < 20 and value[-3:-2] == ".":
            amount = Decimal(value)  # already two places: quantize would not change it
            if amount.is_finite():
                return amount
        return Decimal(str(value)).quantize(_CENT)
    except InvalidOperation:
        where = field if line is None else f"orders[{line}].{field}"
        raise MappingError(f"trade {tid}: {where} {value!r} is not an amount in yuan") from None


def map_trade(
    info: Mapping[str, Any],
    *,
    refunds: Iterable[Mapping[str, Any]] = (),
    plain: Plain = lambda v: v,
    store_id: str | None = None,
    store_name: str | None = None,
) -> OrderRecord | None:
    """One ``full_order_info`` to an OrderRecord, or None when its state is not taken."""
    order = info.get("order_info") or {}
    tid = str(order.get("tid") or "")
    if not tid:
        raise MappingError("full_order_info without order_info.tid")
    status = STATUS_MAP.get(order.get("status") or "")
    if status is None:
        return None
    pay = info.get("pay_info") or {}
    updated = parse_time(order.get("update_time"), tid=tid, field="update_time")
    consignee = _consignee(info.get("address_info") or {}, plain)
    return OrderRecord(
        source=PLATFORM,
        external_id=tid,
        order_no=tid,
        status=status,
        platform_status=order.get("status"),
        ordered_at=parse_time(order.get("created"), tid=tid, field="created")
        or _missing(tid, "created"),
        updated_at=updated,
        version=int(updated.timestamp() * 1000) if updated else None,
        buyer=_buyer(info.get("buyer_info") or {}, consignee),
        lines=[_line(item, tid) for item in info.get("orders") or []],
        # A closed trade's refund is its closure: the cancel event carries it (Y7).
        refunds=[] if status == "closed" else _refunds(refunds, tid),
        amount_total=money(pay.get("total_fee"), tid=tid, field="pay_info.total_fee"),
        amount_paid=money(pay.get("payment"), tid=tid, field="pay_info.payment"),
        paid_at=parse_time(order.get("pay_time"), tid=tid, field="pay_time"),
        closed_at=updated if status == "closed" else None,
        sales_channel=SALES_CHANNEL,
        store_id=store_id or _str(order.get("node_kdt_id") or order.get("root_kdt_id")),
        store_name=order.get("shop_name") or store_name,
        consignee=consignee,
        payment_no=",".join(str(t) for t in pay.get("transaction") or []) or None,
        payment_method=order.get("pay_type_str") or None,
        properties={"refund_state": order.get("refund_state"), "type": order.get("type")},
    )


def _missing(tid: str, field: str) -> datetime:
    raise MappingError(f"trade {tid}: order_info.{field} is missing")


def _str(value: Any) -> str | None:
    return None if value in (None, "", 0) else str(value)


def _reveal(value: Any, plain: Plain) -> str | None:
    if value in (None, ""):
        return None
    return plain(value) if is_cipher(value) else str(value)


def _consignee(address: Mapping[str, Any], plain: Plain) -> Consignee:
    return Consignee(
        name=_reveal(address.get("receiver_name"), plain),
        phone=_reveal(address.get("receiver_tel"), plain),
        country=address.get("delivery_country") or "China",
        province=address.get("delivery_province") or None,
        city=address.get("delivery_city") or None,
        district=address.get("delivery_district") or None,
        address=_reveal(address.get("delivery_address"), plain),
    )


def _buyer(buyer: Mapping[str, Any], consignee: Consignee) -> CustomerRecord | None:
    identities = [(kind, str(buyer[key])) for kind, key in IDENTITY_FIELDS if buyer.get(key)]
    if not identities:
        return None
    properties = {
        k: v
        for k, v in (
            ("country", consignee.country),
            ("province", consignee.province),
            ("city", consignee.city),
            ("district", consignee.district),
            ("address", consignee.address),
        )
        if v
    }
    return CustomerRecord(
        identities=identities,
        name=consignee.name,
        mobile=consignee.phone,
        properties=properties,
        original_source=SALES_CHANNEL,
    )


def _line(item: Mapping[str, Any], tid: str) -> LineRecord:
    oid = _str(item.get("oid"))
    if oid is None:
        raise MappingError(f"trade {tid}: a line without orders[].oid")
    return LineRecord(
        external_id=oid,
        product_external_id=_str(item.get("item_id")),
        sku_id=_str(item.get("sku_id")),  # 0 means "no SKU"
        name=item.get("title"),
        qty=int(item.get("num") or 0),
        unit_price=money(item.get("price"), tid=tid, field="price", line=oid),
        total=money(item.get("total_fee"), tid=tid, field="total_fee", line=oid),
        paid=money(item.get("payment"), tid=tid, field="payment", line=oid),
    )


def _refunds(rows: Iterable[Mapping[str, Any]], tid: str) -> list[RefundRecord]:
    """Successful refunds of this trade (youzan.trade.refund.search rows)."""
    out = []
    for row in rows:
        if row.get("status") != "SUCCESS" or str(row.get("tid")) != tid:
            continue
        rid = str(row["refund_id"])
        when = parse_time(
            row.get("modified") or row.get("created"), tid=tid, field=f"refund {rid}.modified"
        )
        amount = money(row.get("refund_fee"), tid=tid, field=f"refund {rid}.refund_fee")
        out.append(
            RefundRecord(
                external_id=rid,
                amount=amount or Decimal(0),
                refunded_at=when or _missing(tid, "refund.modified"),
                reason=row.get("reason") or None,
            )
        )
    return out
