"""Pure mapping of mini shop payloads (the sandbox's renderings, PLATFORMS.md §2) to records."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import pytest

from connectors.wechat_shop import webhooks
from connectors.wechat_shop.mapping import MappingError, map_order
from connectors.wechat_shop.products import map_spu, products_in_orders, rules
from connectors.wechat_shop.sandbox_data import Shop
from connectors.wechat_shop.sandbox_life import generate
from connectors.wechat_shop.sandbox_render import order_json, spu_json

NOW = 1_780_000_000


@pytest.fixture(scope="module")
def shop() -> Shop:
    s = Shop(5)
    generate(s, 300, 40, NOW)
    return s


def _wire(payload: dict) -> dict:
    """As the client sees it: the JSON bytes parsed back (ids exact)."""
    return orjson.loads(orjson.dumps(payload))


def _first(shop: Shop, status: int) -> dict:
    return _wire(order_json(next(o for o in shop.orders.values() if o.status == status)))


def test_w6_statuses_and_unpaid_dropped(shop):
    seen = {}
    for o in shop.orders.values():
        rec = map_order(_wire(order_json(o)))
        seen[o.status] = None if rec is None else rec.status
    assert seen[20] == "paid" and seen[30] == "shipped" and seen[100] == "completed"
    assert seen.get(10) is None
    for code in (200, 250):
        if code in seen:
            assert seen[code] == "closed"


def test_w6_order_fields_exact(shop):
    raw = _first(shop, 20)
    rec = map_order(raw, store_id="wx1")
    assert rec.external_id == rec.order_no == str(raw["order_id"]) and int(rec.external_id) > 2**53
    assert rec.source == "wechat_shop" and rec.sales_channel == "WeChat Mini Shop"
    assert rec.platform_status == "20"
    price = raw["order_detail"]["price_info"]["order_price"]
    assert rec.amount_total == rec.amount_paid == Decimal(price) / 100
    assert isinstance(rec.amount_total, Decimal) and rec.amount_total.as_tuple().exponent == -2
    assert rec.ordered_at.tzinfo is not None and rec.paid_at is not None
    created = datetime.strptime(raw["create_time"], "%Y-%m-%d %H:%M:%S")
    assert rec.ordered_at == created.replace(tzinfo=UTC) - timedelta(hours=8)  # Shanghai
    assert rec.buyer.identities == [("wx_openid", raw["openid"])]
    assert rec.buyer.mobile and rec.consignee.phone == rec.buyer.mobile
    item = raw["order_detail"]["product_infos"][0]
    line = rec.lines[0]
    assert line.external_id == f"{item['product_id']}:{item['sku_id']}"
    assert line.product_external_id == str(item["product_id"]) and line.sku_id == str(
        item["sku_id"]
    )
    assert line.qty == item["sku_cnt"] and line.unit_price == Decimal(item["sale_price"]) / 100
    assert line.properties["on_aftersale_sku_cnt"] == item["on_aftersale_sku_cnt"]


def test_w6_closed_orders_taken_cancelled_with_closed_at(shop):
    """200 and 250 are closed and taken even when first seen so (the core stores them with
    paid amount 0, test_core_ingest's test_w6_take_closed...); the amount the shop had is
    kept for the cancel event of an order the hub had stored."""
    raw = _first(shop, 20)
    total = Decimal(raw["order_detail"]["price_info"]["order_price"]) / 100
    for code in (200, 250):
        rec = map_order({**raw, "status": code})
        assert rec.status == "closed" and rec.take_closed and rec.amount_paid == total
        assert rec.closed_at == rec.updated_at and rec.platform_status == str(code)


def test_w6_consignee_from_either_address_key_and_delivery_methods(shop):
    raw = _first(shop, 20)
    delivery = raw["order_detail"]["delivery_info"]
    address = delivery.pop("address_info", None) or delivery.pop("delivery_address_info")
    for key in ("address_info", "delivery_address_info"):
        variant = copy.deepcopy(raw)
        variant["order_detail"]["delivery_info"][key] = address
        rec = map_order(variant)
        assert rec.consignee.name == address["user_name"]
        assert rec.consignee.city == address["city_name"]
    for method, shipping, expected in (
        ("快递", "ShippingMethod_Express", "express"),
        ("同城配送", "ShippingMethod_SameCity", "same_city"),
        ("自提", "ShippingMethod_Pickup", "self_pickup"),
        ("", "ShippingMethod_Pickup", "self_pickup"),
    ):
        variant = copy.deepcopy(raw)
        info = variant["order_detail"]["delivery_info"]
        info["delivery_method"], info["express_fee"] = method, [{"shipping_method": shipping}]
        assert map_order(variant).properties["delivery_method"] == expected


def test_ids_never_through_a_float(shop):
    raw = _first(shop, 20)
    with pytest.raises(MappingError, match="float"):
        map_order({**raw, "order_id": float(raw["order_id"])})


def test_w4_w2_spu_statuses_and_rules(shop):
    spus = {s.status: _wire(spu_json(s)) for s in shop.spus.values()}
    default = rules({})
    assert map_spu(spus[5], default).status == "on_sale"
    for code in (11, 12, 13):
        assert map_spu(spus[code], default).status == "off_shelf"
    for code in (0, 6, 9):
        assert map_spu(spus[code], default) is None
    rec = map_spu(spus[5], default)
    assert rec.external_id == str(spus[5]["product_id"]) and rec.keep_existing is True
    assert rec.price == Decimal(spus[5]["min_price"]) / 100
    assert rec.properties["groups"] == ["Mini Shop migration"]
    assert "freight" not in rec.properties  # the shop's own (none in this SPU)
    flat = {"mode": "flat", "amount": "8.00"}
    custom = rules({"migration": {"product_status": "warehouse", "group": None, "freight": flat,
                                  "skip_migrated": False}})  # fmt: skip
    rec = map_spu(spus[11], custom)
    assert rec.status == "warehouse" and "groups" not in rec.properties
    assert rec.properties["freight"] == flat and rec.keep_existing is False
    assert (
        map_spu(spus[13], rules({"migration": {"product_status": "on_sale"}})).status == "on_sale"
    )


def test_w7_products_in_orders_create_only_with_the_rules(shop):
    paid = _first(shop, 20)
    unpaid = _first(shop, 10) if any(o.status == 10 for o in shop.orders.values()) else None
    made = products_in_orders([paid], rules({"migration": {"product_status": "warehouse"}}))
    ids = [str(i["product_id"]) for i in paid["order_detail"]["product_infos"]]
    assert [p.external_id for p in made] == list(dict.fromkeys(ids))
    assert all(p.keep_existing and p.status == "warehouse" for p in made)
    if unpaid is not None:
        assert products_in_orders([unpaid], rules({})) == []


def test_push_signature_and_bodies():
    sig = webhooks.expected_signature("tok", "1700000000", "42")
    headers = {"X-Webhook-Query-signature": sig, "X-Webhook-Query-timestamp": "1700000000",
               "X-Webhook-Query-nonce": "42"}  # fmt: skip
    assert webhooks.verify(headers, "tok") and not webhooks.verify(headers, "other")
    assert not webhooks.verify({}, "tok")
    big = 2**60 + 7
    json_body = orjson.dumps(
        {"CreateTime": 1, "Event": "open_product_order_pay", "order_info": {"order_id": big}}
    )
    xml_body = (
        b"<xml><CreateTime>1</CreateTime><Event><![CDATA[open_product_order_pay]]></Event>"
        b"<order_info><order_id>%d</order_id></order_info></xml>" % big
    )
    for body in (json_body, xml_body):
        info = webhooks.info(body)
        assert info.delivery_id == f"{big}:open_product_order_pay:1"
        assert webhooks.order_id(webhooks.parse(body)) == str(big)
    with pytest.raises(webhooks.BadPush):
        webhooks.parse(b'<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>')


def test_w8_send_errcodes_map_to_refusals():
    from connectors.wechat_shop.client import WechatApiError
    from connectors.wechat_shop.shipping import refusal

    path = "/product/delivery/send"
    assert refusal(WechatApiError(path, 10020003, "shipped"), "1").code == "already_shipped"
    after = refusal(WechatApiError(path, 10020004, "after-sale"), "12")
    assert after.code == "after_sale" and "12" in str(after) and "after-sale" in str(after)
    assert refusal(WechatApiError(path, 10020005, "bad"), "1").code == "carrier"
    assert refusal(WechatApiError(path, 99, "other"), "1").code == "not_shippable"
