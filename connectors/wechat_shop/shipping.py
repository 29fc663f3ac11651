"""Shipping back to the mini shop (W8): the carriers (``/product/delivery/get_company_list``),
``/product/delivery/send`` of the items not yet shipped after reading the order, and the
freight templates. A shipment the shop would refuse is refused first, with a plain reason
(``ShipmentRefused``, marked for translation)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.wechat_shop.client import WechatApiError, WechatShopClient
from connectors.wechat_shop.mapping import line_key, map_order, shipped_counts
from hub.connectors import Carrier, Shipment, ShipResult
from hub.core.errors import N_, ShipmentRefused
from hub.sync.http import platform_text

WAYBILL = re.compile(r"^[0-9A-Za-z-]{4,40}$")
TO_SHIP = 20
SHIPPED = (30, 100)

NOT_FOUND = N_("Order %(order)s was not found on the WeChat Mini Shop.")
ALREADY_SHIPPED = N_("Order %(order)s is already shipped on the WeChat Mini Shop.")
NOT_SHIPPABLE = N_(
    "Order %(order)s cannot be shipped: its status on the WeChat Mini Shop is %(status)s "
    "(only paid orders waiting for shipment, status 20, can be shipped)."
)
AFTER_SALE = N_(
    "Order %(order)s has an item in an after-sale case on the WeChat Mini Shop "
    "(%(item)s): settle the case before shipping."
)
BAD_CARRIER = N_(
    "carrier: %(carrier)s is not a carrier of the WeChat Mini Shop (choose one of its list)."
)
BAD_WAYBILL = N_(
    "waybill: %(waybill)s is not a waybill number (4 to 40 letters, digits or hyphens)."
)
SHOP_REFUSED = N_("The WeChat Mini Shop refused to ship order %(order)s: %(reason)s")


def _num(value: str) -> int | str:
    """An id sent as the number WeChat types it as (uint64), kept exact."""
    return int(value) if value.isdigit() else value


def get_order(client: WechatShopClient, order_id: str) -> dict[str, Any]:
    """``/product/order/get``; an order the shop does not know is ``not_found``."""
    try:
        data = client.call("/product/order/get", {"order_id": _num(order_id)})
    except WechatApiError as exc:
        raise ShipmentRefused("not_found", NOT_FOUND, order=order_id) from exc
    order = data.get("order")
    if not isinstance(order, dict):
        raise ShipmentRefused("not_found", NOT_FOUND, order=order_id)
    return order


def carriers(client: WechatShopClient) -> list[Carrier]:
    data = client.call("/product/delivery/get_company_list", {})
    return [
        Carrier(code=str(c["delivery_id"]), name=str(c.get("delivery_name") or c["delivery_id"]))
        for c in data.get("company_list") or []
        if isinstance(c, dict) and c.get("delivery_id")
    ]


def freight_templates(client: WechatShopClient) -> list[dict[str, Any]]:
    data = client.call("/product/delivery/get_freight_template", {"offset": 0, "limit": 100})
    rows = data.get("template_list") or data.get("freight_templates") or []
    return [dict(r) for r in rows if isinstance(r, dict)]


def _unshipped(order: Mapping[str, Any], oid: str) -> tuple[list[dict[str, Any]], list[str], bool]:
    """The items left to ship (product_infos for send), the line keys already shipped, and
    whether nothing was shipped yet. An item in an after-sale case refuses the shipment."""
    detail = order.get("order_detail") or {}
    shipped = shipped_counts(detail.get("delivery_info") or {})
    send: list[dict[str, Any]] = []
    skipped: list[str] = []
    for item in detail.get("product_infos") or []:
        key = line_key(item.get("product_id"), item.get("sku_id"))
        if int(item.get("on_aftersale_sku_cnt") or 0) > 0:
            raise ShipmentRefused("after_sale", AFTER_SALE, order=oid, item=key)
        left = (
            int(item.get("sku_cnt") or 0)
            - shipped.get(key, 0)
            - int(item.get("finish_aftersale_sku_cnt") or 0)
        )
        if left <= 0:
            skipped.append(key)
            continue
        send.append(
            {
                "product_id": _num(str(item.get("product_id"))),
                "sku_id": _num(str(item.get("sku_id") or 0)),
                "product_cnt": left,
                "_key": key,
            }
        )
    return send, skipped, not shipped


def ship(client: WechatShopClient, shipment: Shipment, store: Mapping[str, Any]) -> ShipResult:
    """Read the order, refuse what the shop would refuse, send only the unshipped items,
    re-read the order and map it."""
    oid = str(shipment.order_external_id)
    waybill = str(shipment.waybill or "").strip()
    if not WAYBILL.match(waybill):
        raise ShipmentRefused("waybill", BAD_WAYBILL, waybill=platform_text(waybill) or '""')
    order = get_order(client, oid)
    status = int(order.get("status") or 0)
    if status in SHIPPED:
        raise ShipmentRefused("already_shipped", ALREADY_SHIPPED, order=oid)
    if status != TO_SHIP:
        raise ShipmentRefused("not_shippable", NOT_SHIPPABLE, order=oid, status=status)
    send, skipped, none_shipped = _unshipped(order, oid)
    if not send:
        raise ShipmentRefused("already_shipped", ALREADY_SHIPPED, order=oid)
    codes = {c.code for c in carriers(client)}
    if shipment.carrier not in codes:
        raise ShipmentRefused("carrier", BAD_CARRIER, carrier=platform_text(shipment.carrier))
    whole = none_shipped and not skipped
    delivery: dict[str, Any] = {
        "delivery_id": shipment.carrier,
        "waybill_id": waybill,
        "is_all_product": whole,
    }
    if not whole:
        delivery["product_infos"] = [{k: v for k, v in i.items() if k != "_key"} for i in send]
    try:
        client.call("/product/delivery/send", {"order_id": _num(oid), "delivery_list": [delivery]})
    except WechatApiError as exc:
        raise ShipmentRefused(
            "not_shippable", SHOP_REFUSED, order=oid, reason=platform_text(str(exc))
        ) from exc
    record = map_order(get_order(client, oid), **dict(store))
    return ShipResult(shipped_lines=[i["_key"] for i in send], skipped_lines=skipped, order=record)
