"""Pure mapping of the mini shop's SPUs to canonical products (W4) with the migration rules
(W2), and of the products first met in orders (W7). Prices are fen; ids may exceed 2^53 and
become strings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connectors.wechat_shop.mapping import (
    PLATFORM,
    STATUS_MAP,
    MappingError,
    fen,
    int_of,
    sid,
    text_of,
)
from hub.connectors import migration_rules
from hub.core.records import ProductRecord

# The taken SPU statuses (W4): 5 listed, 11/12/13 delisted; 0/6/9 never.
SPU_STATUSES = (5, 11, 12, 13)
LISTED = 5


def rules(config: Mapping[str, Any]) -> dict[str, Any]:
    """The connection's migration rules (``settings["migration"]``) over the defaults."""
    return migration_rules(config)


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
    code = int_of(spu.get("status"))
    if code not in SPU_STATUSES:
        return None
    where = f"product {pid}"
    skus = [s for s in spu.get("skus") or [] if isinstance(s, Mapping)]
    props: dict[str, Any] = {
        "spu_status": code,
        "sub_title": text_of(spu.get("sub_title")),
        "out_product_id": text_of(spu.get("out_product_id")),
        "head_img": [str(i) for i in spu.get("head_img") or []][:9],
        "skus": [
            {
                "sku_id": sid(s.get("sku_id")),
                "sale_price": _yuan(s.get("sale_price"), where),
                "stock_num": int_of(s.get("stock_num")),
                "sku_code": text_of(s.get("sku_code")),
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
        name=text_of(spu.get("title")),
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
        if STATUS_MAP.get(int_of(order.get("status")) or 0) is None:
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
                name=text_of(item.get("title")),
                price=price,
                status=status,
                properties=props,
                keep_existing=True,
            )
    return list(out.values())


def _yuan(value: Any, where: str) -> str | None:
    amount = fen(value, where=where, field="skus[].sale_price")
    return None if amount is None else str(amount)
