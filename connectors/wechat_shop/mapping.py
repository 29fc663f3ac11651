"""Pure mapping of WeChat Mini Shop payloads (PLATFORMS.md §2) to canonical records: orders
(W6), SPUs (W4, with the migration rules of W2) and the products first met in orders (W7).

Money is fen integers; times are ``yyyy-MM-dd HH:mm:ss`` Shanghai wall time (or unix seconds);
ids (``order_id``, ``product_id``, ``sku_id``) may exceed 2^53 and become strings here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hub.core.records import Consignee, CustomerRecord, LineRecord, OrderRecord, ProductRecord

PLATFORM = "wechat_shop"
SALES_CHANNEL = "WeChat Mini Shop"
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
# The taken order statuses (W6): 10 (unpaid) never.
STATUS_MAP = {20: "paid", 30: "shipped", 100: "completed", 200: "closed", 250: "closed"}
ORDER_STATUSES = tuple(STATUS_MAP)
# The taken SPU statuses (W4): 5 listed, 11/12/13 delisted; 0/6/9 never.
SPU_STATUSES = (5, 11, 12, 13)
LISTED = 5
DEFAULT_GROUP = "Mini Shop migration"
DEFAULT_RULES: dict[str, Any] = {
    "product_status": "same",
    "freight": None,
    "group": DEFAULT_GROUP,
    "skip_migrated": True,
}
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


def rules(config: Mapping[str, Any]) -> dict[str, Any]:
    """The connection's migration rules (``settings["migration"]``) over the defaults."""
    given = config.get("migration") or {}
    return {**DEFAULT_RULES, **{k: v for k, v in dict(given).items() if k in DEFAULT_RULES}}


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
    code = _int(order.get("status"))
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
        # 200/250: cancelled, nothing kept by the shop (the core records a cancel event only
        # for an order it had stored, as Youzan's TRADE_CLOSED, Y7)
        amount_paid=Decimal("0.00") if closed else total,
        paid_at=parse_time(pay.get("pay_time"), where=where, field="pay_info.pay_time"),
        closed_at=updated if closed else None,
        sales_channel=SALES_CHANNEL,
        store_id=store_id,
        store_name=store_name,
        consignee=consignee,
        payment_no=_text(pay.get("transaction_id")),
        payment_method=_text(pay.get("pay_method")),
        properties=_order_properties(order, detail, price, delivery, shipped),
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
        "on_aftersale_order_cnt": _int(after.get("on_aftersale_order_cnt")) or 0,
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
        {"carrier": _text(d.get("delivery_id")), "waybill": _text(d.get("waybill_id"))}
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
        name=_text(address.get("user_name")),
        phone=_text(address.get("tel_number")),
        country="China",
        province=_text(address.get("province_name")),
        city=_text(address.get("city_name")),
        district=_text(address.get("county_name")),
        address=_text(address.get("detail_info")),
    )


def buyer_of(order: Mapping[str, Any], consignee: Consignee | None) -> CustomerRecord | None:
    """The buyer by WeChat openid, with the consignee's name and phone."""
    openid = _text(order.get("openid"))
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
        identities=[("wechat_openid", openid)],
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
            out[key] = out.get(key, 0) + (_int(item.get("product_cnt")) or 0)
    return out


def _line(item: Mapping[str, Any], oid: str, shipped: dict[str, int]) -> LineRecord:
    pid = sid(item.get("product_id"))
    if pid is None:
        raise MappingError(f"order {oid}: a product_infos entry without product_id")
    sku = sid(item.get("sku_id"))
    key = f"{pid}:{sku or '0'}"
    qty = _int(item.get("sku_cnt")) or 0
    sale = item.get("sale_price")
    if sale.__class__ is int:
        unit: Decimal | None = Decimal(sale).scaleb(-2)
    else:
        unit = fen(sale, where=f"order {oid}", field=f"product_infos[{key}].sale_price")
    properties: dict[str, Any] = {
        "on_aftersale_sku_cnt": _int(item.get("on_aftersale_sku_cnt")) or 0,
        "finish_aftersale_sku_cnt": _int(item.get("finish_aftersale_sku_cnt")) or 0,
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
        name=_text(item.get("title")),
        qty=qty,
        unit_price=unit,
        total=None if unit is None else unit * qty,
        properties=properties,
    )


# --------------------------------------------------------------------------- products
def product_status(spu_status: int | None, rule: str) -> str:
    """W2: "same" maps 5 to on_sale and 11/12/13 to off_shelf; else the rule's status."""
    if rule == "warehouse":
        return "warehouse"
    if rule == "on_sale":
        return "on_sale"
    return "on_sale" if spu_status == LISTED else "off_shelf"


def _rule_properties(rule: Mapping[str, Any], own_freight: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if rule.get("group") is not None:
        props["groups"] = [rule["group"]]
    freight = rule.get("freight")
    if freight is not None:
        props["freight"] = dict(freight)
    elif own_freight is not None:
        props["freight"] = own_freight
    return props


def map_spu(spu: Mapping[str, Any], rule: Mapping[str, Any]) -> ProductRecord | None:
    """One SPU to a ProductRecord with the migration rules; None for a status not taken."""
    pid = sid(spu.get("product_id"))
    if pid is None:
        raise MappingError("an SPU without product_id")
    code = _int(spu.get("status"))
    if code not in SPU_STATUSES:
        return None
    where = f"product {pid}"
    skus = [s for s in spu.get("skus") or [] if isinstance(s, Mapping)]
    props: dict[str, Any] = {
        "spu_status": code,
        "sub_title": _text(spu.get("sub_title")),
        "out_product_id": _text(spu.get("out_product_id")),
        "head_img": [str(i) for i in spu.get("head_img") or []][:9],
        "skus": [
            {
                "sku_id": sid(s.get("sku_id")),
                "sale_price": _money_text(s.get("sale_price"), where, "skus[].sale_price"),
                "stock_num": _int(s.get("stock_num")),
                "sku_code": _text(s.get("sku_code")),
            }
            for s in skus
        ],
    }
    props = {k: v for k, v in props.items() if v not in (None, "", [])}
    own = _own_freight(spu)
    props.update(_rule_properties(rule, own))
    price = fen(spu.get("min_price"), where=where, field="min_price")
    if price is None and skus:
        prices = [p for s in skus if (p := fen(s.get("sale_price"), where=where)) is not None]
        price = min(prices) if prices else None
    return ProductRecord(
        source=PLATFORM,
        external_id=pid,
        name=_text(spu.get("title")),
        price=price,
        status=product_status(code, str(rule.get("product_status") or "same")),
        properties=props,
        keep_existing=bool(rule.get("skip_migrated", True)),
    )


def _own_freight(spu: Mapping[str, Any]) -> dict[str, Any] | None:
    """The mini shop's own freight of an SPU (its template), when the SPU names one."""
    express = spu.get("express_info") or {}
    template = express.get("template_id") if isinstance(express, Mapping) else None
    template = template or spu.get("freight_template_id")
    return {"mode": "template", "template_id": str(template)} if template else None


def products_in_orders(
    orders: Iterable[Mapping[str, Any]],
    rule: Mapping[str, Any],
    known: set[str] | None = None,
) -> list[ProductRecord]:
    """W7: a product first met in an order, created at once with the rules in force (create
    only: a product already in the hub is left as it is), from the order line's title and
    sale price. Unpaid orders are not taken, so neither are their products; ids in ``known``
    (already emitted) are left out."""
    out: dict[str, ProductRecord] = {}
    known = known or set()
    extra = _rule_properties(rule, None)
    status = product_status(LISTED, str(rule.get("product_status") or "same"))
    for order in orders:
        if STATUS_MAP.get(_int(order.get("status")) or 0) is None:
            continue
        for item in (order.get("order_detail") or {}).get("product_infos") or []:
            pid = sid(item.get("product_id"))
            if pid is None or pid in out or pid in known:
                continue
            price = fen(item.get("sale_price"), where=f"product {pid}", field="sale_price")
            props = {"first_seen_in_order": sid(order.get("order_id")), **extra}
            out[pid] = ProductRecord(
                source=PLATFORM,
                external_id=pid,
                name=_text(item.get("title")),
                price=price,
                status=status,
                properties=props,
                keep_existing=True,
            )
    return list(out.values())


# --------------------------------------------------------------------------- helpers
def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
