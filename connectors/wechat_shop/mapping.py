"""Pure mapping of WeChat Mini Shop payloads (PLATFORMS.md §2) to canonical records: orders
(W6), SPUs (W4, with the migration rules of W2) and the products first met in orders (W7).

Money is fen integers; times are ``yyyy-MM-dd HH:mm:ss`` Shanghai wall time (or unix seconds);
ids (``order_id``, ``product_id``, ``sku_id``) may exceed 2^53 and become strings here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hub.core.records import Consignee, CustomerRecord, LineRecord, OrderRecord

PLATFORM = "wechat_shop"
SALES_CHANNEL = "WeChat Mini Shop"
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
# The taken order statuses (W6): 10 (unpaid) never.
STATUS_MAP = {20: "paid", 30: "shipped", 100: "completed", 200: "closed", 250: "closed"}
ORDER_STATUSES = tuple(STATUS_MAP)
DELIVERY_METHODS = {
    "快递": "express",
    "同城配送": "same_city",
    "同城": "same_city",
    "自提": "self_pickup",
    "上门自提": "self_pickup",
    "ShippingMethod_Express": "express",
    "ShippingMethod_SameCity": "same_city",
    "ShippingMethod_Pickup": "self_pickup",
    "express": "express",
    "same_city": "same_city",
    "self_pickup": "self_pickup",
}
_FEN = Decimal("0.01")


class MappingError(ValueError):
    """A payload that cannot be mapped; the message names the order/product and the field."""


def sid(value: Any) -> str | None:
    """A platform id as a string (never through a float); None when absent."""
    kind = value.__class__
    if kind is int or kind is str:
        return str(value) if value != "" else None
    if value is None or kind is bool:
        return None
    if kind is float:
        raise MappingError(f"id {value!r} arrived as a float: its digits are lost")
    return str(value)


def fen(value: Any, *, where: str, field: str = "") -> Decimal | None:
    """Fen (an integer, or its string) to yuan as a Decimal with two places. An error names
    ``where`` and ``field``."""
    if value.__class__ is int:
        return Decimal(value).scaleb(-2)
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool | float):
            raise ValueError(value)
        return Decimal(int(value)).scaleb(-2)
    except (ValueError, TypeError):
        name = f"{where}: {field}" if field else where
        raise MappingError(f"{name}: {value!r} is not an amount in fen") from None


def parse_time(value: Any, *, where: str, field: str = "") -> datetime | None:
    """Shanghai ``yyyy-MM-dd HH:mm:ss`` or unix seconds to an aware UTC datetime; 0/"" None."""
    if value.__class__ is str and len(value) == 19 and value[10] == " ":
        try:
            return datetime.fromisoformat(value + "+08:00").astimezone(UTC)
        except ValueError:
            pass
    elif value in (None, "", 0, "0"):
        return None
    try:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return datetime.fromtimestamp(int(value), UTC)
        raise ValueError(value)
    except (ValueError, TypeError, OverflowError):
        name = f"{where}: {field}" if field else where
        raise MappingError(f"{name}: {value!r} is not yyyy-MM-dd HH:mm:ss") from None


def fmt(when: datetime) -> str:
    """An aware datetime as WeChat's Shanghai ``yyyy-MM-dd HH:mm:ss``."""
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- orders
def map_order(
    order: Mapping[str, Any], *, store_id: str | None = None, store_name: str | None = None
) -> OrderRecord | None:
    """One order (``/product/order/get`` or a ``get_list`` row) to an OrderRecord, or None
    when unpaid (10) or in a status the hub does not take."""
    oid = sid(order.get("order_id"))
    if oid is None:
        raise MappingError("an order without order_id")
    code = int_of(order.get("status"))
    status = STATUS_MAP.get(code) if code is not None else None
    if status is None:
        return None
    where = f"order {oid}"
    detail = order.get("order_detail") or {}
    price, pay = detail.get("price_info") or {}, detail.get("pay_info") or {}
    delivery = detail.get("delivery_info") or {}
    created = parse_time(order.get("create_time"), where=where, field="create_time")
    if created is None:
        raise MappingError(f"{where}: create_time is missing")
    updated = parse_time(order.get("update_time"), where=where, field="update_time") or created
    closed = status == "closed"
    consignee = consignee_of(delivery)
    shipped = shipped_counts(delivery)
    total = fen(price.get("order_price"), where=where, field="price_info.order_price")
    return OrderRecord(
        source=PLATFORM,
        external_id=oid,
        order_no=oid,
        status=status,
        platform_status=str(code),
        ordered_at=created,
        updated_at=updated,
        version=int(updated.timestamp() * 1000),
        buyer=buyer_of(order, consignee),
        lines=[_line(item, oid, shipped) for item in detail.get("product_infos") or []],
        amount_total=total,
        # 200/250: cancelled; the core takes the paid amount to 0 and records a cancel event
        # for an order it had stored (Y7), and stores one first seen cancelled without (W6)
        amount_paid=total,
        paid_at=parse_time(pay.get("pay_time"), where=where, field="pay_info.pay_time"),
        closed_at=updated if closed else None,
        sales_channel=SALES_CHANNEL,
        store_id=store_id,
        store_name=store_name,
        consignee=consignee,
        payment_no=text_of(pay.get("transaction_id")),
        payment_method=text_of(pay.get("pay_method")),
        properties=_order_properties(order, detail, price, delivery, shipped),
        take_closed=True,
    )


def _order_properties(
    order: Mapping[str, Any],
    detail: Mapping[str, Any],
    price: Mapping[str, Any],
    delivery: Mapping[str, Any],
    shipped: dict[str, int],
) -> dict[str, Any]:
    ext = order.get("ext_info") or {}
    after = order.get("aftersale_detail") or {}
    where = order.get("order_id")
    props: dict[str, Any] = {
        "delivery_method": delivery_method(delivery),
        "freight": _money_text(price.get("freight"), where, "price_info.freight"),
        "product_price": _money_text(price.get("product_price"), where, "price_info.product_price"),
        "discounted_price": _money_text(
            price.get("discounted_price"), where, "price_info.discounted_price"
        ),
        "on_aftersale_order_cnt": int_of(after.get("on_aftersale_order_cnt")) or 0,
        "shipped_items": sum(shipped.values()),
    }
    for key, value in (
        ("out_order_id", order.get("out_order_id")),
        ("customer_notes", ext.get("customer_notes")),
        ("merchant_notes", ext.get("merchant_notes")),
    ):
        if value:
            props[key] = str(value).strip()
    waybills = [
        {"carrier": text_of(d.get("delivery_id")), "waybill": text_of(d.get("waybill_id"))}
        for d in shipments(delivery)
        if d.get("waybill_id")
    ]
    if waybills:
        props["waybills"] = waybills
    return props


def _money_text(value: Any, order_id: Any, field: str = "") -> str | None:
    if value.__class__ is int:
        return str(Decimal(value).scaleb(-2))
    amount = fen(value, where=f"order {order_id}", field=field)
    return None if amount is None else str(amount)


def delivery_method(delivery: Mapping[str, Any]) -> str:
    """express | same_city | self_pickup, from ``delivery_method`` or ``express_fee``."""
    method = DELIVERY_METHODS.get(str(delivery.get("delivery_method") or "").strip())
    if method:
        return method
    for fee in delivery.get("express_fee") or []:
        method = DELIVERY_METHODS.get(str((fee or {}).get("shipping_method") or ""))
        if method:
            return method
    return "express"


def consignee_of(delivery: Mapping[str, Any]) -> Consignee | None:
    """``address_info`` (or the ``delivery_address_info`` variant)."""
    address = delivery.get("address_info") or delivery.get("delivery_address_info") or {}
    if not address:
        return None
    return Consignee(
        name=text_of(address.get("user_name")),
        phone=text_of(address.get("tel_number")),
        country="China",
        province=text_of(address.get("province_name")),
        city=text_of(address.get("city_name")),
        district=text_of(address.get("county_name")),
        address=text_of(address.get("detail_info")),
    )


def buyer_of(order: Mapping[str, Any], consignee: Consignee | None) -> CustomerRecord | None:
    """The buyer by WeChat openid, with the consignee's name and phone."""
    openid = text_of(order.get("openid"))
    if openid is None:
        return None
    c = consignee or Consignee()
    properties = {
        k: v
        for k, v in (
            ("country", c.country),
            ("province", c.province),
            ("city", c.city),
            ("district", c.district),
            ("address", c.address),
        )
        if v
    }
    return CustomerRecord(
        identities=[("wx_openid", openid)],  # the hub's built-in "WeChat openid"
        name=c.name,
        mobile=c.phone,
        properties=properties,
        original_source=SALES_CHANNEL,
    )


def shipments(delivery: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``delivery_product_info``: a list of shipments (one object in some SDKs)."""
    info = delivery.get("delivery_product_info")
    if isinstance(info, Mapping):
        return [info]
    return [d for d in info or [] if isinstance(d, Mapping)]


def line_key(product_id: Any, sku_id: Any) -> str:
    return f"{sid(product_id)}:{sid(sku_id) or '0'}"


def shipped_counts(delivery: Mapping[str, Any]) -> dict[str, int]:
    """Units shipped so far by line key (product_id:sku_id)."""
    out: dict[str, int] = {}
    for shipment in shipments(delivery):
        for item in shipment.get("product_infos") or []:
            key = line_key(item.get("product_id"), item.get("sku_id"))
            out[key] = out.get(key, 0) + (int_of(item.get("product_cnt")) or 0)
    return out


def _line(item: Mapping[str, Any], oid: str, shipped: dict[str, int]) -> LineRecord:
    pid = sid(item.get("product_id"))
    if pid is None:
        raise MappingError(f"order {oid}: a product_infos entry without product_id")
    sku = sid(item.get("sku_id"))
    key = f"{pid}:{sku or '0'}"
    qty = int_of(item.get("sku_cnt")) or 0
    sale = item.get("sale_price")
    if sale.__class__ is int:
        unit: Decimal | None = Decimal(sale).scaleb(-2)
    else:
        unit = fen(sale, where=f"order {oid}", field=f"product_infos[{key}].sale_price")
    properties: dict[str, Any] = {
        "on_aftersale_sku_cnt": int_of(item.get("on_aftersale_sku_cnt")) or 0,
        "finish_aftersale_sku_cnt": int_of(item.get("finish_aftersale_sku_cnt")) or 0,
        "shipped_cnt": shipped.get(key, 0),
    }
    attrs = item.get("sku_attrs")
    if attrs:
        properties["sku_attrs"] = [
            f"{a.get('attr_key')}: {a.get('attr_value')}" for a in attrs if isinstance(a, dict)
        ]
    return LineRecord(
        external_id=key,
        product_external_id=pid,
        sku_id=sku,
        name=text_of(item.get("title")),
        qty=qty,
        unit_price=unit,
        total=None if unit is None else unit * qty,
        properties=properties,
    )


# --------------------------------------------------------------------------- helpers
def int_of(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
