"""The Shopify mapping, pure, on the sandbox's own payloads passed through JSON as on the
wire (ids above 2^53, string money, shop-offset times)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from connectors.shopify import sandbox_render as render
from connectors.shopify.mapping import (
    CHECKOUT_PROPERTIES,
    CUSTOMER_ID,
    FIRST_SYNC_DETAIL,
    FIRST_SYNC_SOURCE,
    map_checkout,
    map_customer,
    map_event,
    map_order,
    map_privacy,
    map_product,
    order_status,
)
from connectors.shopify.sandbox_data import Shop
from connectors.shopify.sandbox_push import compliance_body
from hub.core.checks import check_records
from hub.core.records import DeletionRecord

EPOCH = 1_780_000_000


def wire(obj: Any) -> Any:
    """As the connector reads it: Shopify's JSON text, parsed by orjson."""
    return orjson.loads(json.dumps(obj, ensure_ascii=False))


@pytest.fixture(scope="module")
def shop() -> Shop:
    s = Shop(23, now=EPOCH)
    s.generate(200)
    return s


def test_ids_above_2_53_survive_parsing_as_exact_strings(shop):
    o = next(iter(shop.orders.values()))
    payload = wire(render.order(o, shop.customers.get(o["customer_id"] or 0)))
    record = map_order(payload)
    assert record.external_id == str(o["id"]) and int(record.external_id) > 2**53
    assert [ln.external_id for ln in record.lines] == [
        str(ln["id"]) for ln in o["lines"] if ln["current_quantity"] > 0
    ]
    assert json.loads("9007199254740993") == 9007199254740993  # never a float
    check_records([record])


def test_h1_customer_keyed_by_email_then_shopify_id_none_without_email(shop):
    with_email = next(c for c in shop.customers.values() if c["email"])
    rec = map_customer(wire(render.customer(with_email)))
    assert rec.identities == [
        ("email", with_email["email"].lower()),
        (CUSTOMER_ID, str(with_email["id"])),
    ]
    without = next(c for c in shop.customers.values() if not c["email"])
    assert map_customer(wire(render.customer(without))) is None
    o = next(o for o in shop.orders.values() if o["customer_id"] == without["id"])
    assert map_order(wire(render.order(o, without))).buyer is None


def test_h2_properties_and_phone_from_the_customer_not_the_address(shop):
    c = next(
        c
        for c in shop.customers.values()
        if c["email"] and c["phone"] and c["address"]["phone"] != c["phone"]
    )
    payload = wire(render.customer(c))
    rec = map_customer(payload)
    assert rec.mobile == c["phone"] and rec.properties["phone"] == c["phone"]
    assert c["address"]["phone"] not in rec.properties.values()
    assert rec.name == f"{c['first_name']} {c['last_name']}"
    assert rec.properties["accepts_marketing"] == (c["consent"] == "subscribed")
    assert rec.properties["street"] == c["address"]["address1"]
    assert rec.properties["zip"] == c["address"]["zip"]


def test_h4_first_sync_source_and_later_source(shop):
    c = next(c for c in shop.customers.values() if c["email"])
    first = map_customer(wire(render.customer(c)), first_sync=True)
    assert (first.original_source, first.original_source_detail) == (
        FIRST_SYNC_SOURCE,
        FIRST_SYNC_DETAIL,
    )
    later = map_customer(wire(render.customer(c)))
    assert (later.original_source, later.original_source_detail) == ("shopify", "shopify")
    o = next(o for o in shop.orders.values() if o["customer_id"] and o["source_name"] == "pos")
    buyer = map_order(wire(render.order(o, shop.customers[o["customer_id"]]))).buyer
    if buyer is not None:
        assert (buyer.original_source, buyer.original_source_detail) == ("shopify", "pos")


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"cancelled_at": "2026-01-01T00:00:00-05:00", "financial_status": "paid"}, "closed"),
        ({"financial_status": "refunded", "fulfillment_status": "fulfilled"}, "closed"),
        ({"financial_status": "voided"}, "closed"),
        ({"financial_status": "paid", "fulfillment_status": "fulfilled"}, "shipped"),
        ({"financial_status": "partially_refunded", "fulfillment_status": "fulfilled"}, "shipped"),
        ({"financial_status": "paid", "fulfillment_status": "partial"}, "paid"),
        ({"financial_status": "partially_refunded"}, "paid"),
        ({"financial_status": "pending"}, "pending"),
        ({"financial_status": "authorized"}, "pending"),
        ({"financial_status": "partially_paid"}, "pending"),
    ],
)
def test_h5_order_status_rules(fields, status):
    assert order_status(fields) == status


def test_h5_h8_order_amounts_refunds_consignee_properties(shop):
    o = next(o for o in shop.orders.values() if o["refunds"] and not o["cancelled_at"])
    cust = shop.customers.get(o["customer_id"] or 0)
    payload = wire(render.order(o, cust))
    rec = map_order(payload)
    assert rec.amount_total == Decimal(payload["total_price"])
    assert [r.external_id for r in rec.refunds] == [str(r["id"]) for r in o["refunds"]]
    assert [r.amount for r in rec.refunds] == [r["amount"] for r in o["refunds"]]
    assert all(r.refunded_at.tzinfo is not None for r in rec.refunds)
    assert rec.platform_status == f"{o['financial_status']}/{o['fulfillment_status'] or ''}"
    assert rec.order_no == f"#{o['order_number']}" and rec.currency == "USD"
    assert rec.properties["total_price"] == payload["total_price"]  # a string, as sent
    assert rec.properties["customer_id"] == (str(cust["id"]) if cust else None)
    if cust:
        assert rec.consignee.city == cust["address"]["city"]
    check_records([rec])


def test_h7_a_line_removed_by_an_edit_is_left_out(shop):
    o = next(o for o in shop.orders.values() if len(o["lines"]) >= 2)
    o = {**o, "lines": [dict(ln) for ln in o["lines"]]}
    o["lines"][0]["current_quantity"] = 0
    rec = map_order(wire(render.order(o, None)))
    assert str(o["lines"][0]["id"]) not in [ln.external_id for ln in rec.lines]
    assert len(rec.lines) == len(o["lines"]) - 1


def test_triggered_at_raises_the_version_only_when_newer(shop):
    o = next(iter(shop.orders.values()))
    payload = wire(render.order(o, None))
    plain = map_order(payload)
    later = datetime.fromtimestamp(o["updated"] + 0.25, UTC)
    assert map_order(payload, triggered_at=later).version == plain.version + 250
    earlier = datetime.fromtimestamp(o["updated"] - 5, UTC)
    assert map_order(payload, triggered_at=earlier).version == plain.version


def test_h6_checkout_record_with_buyer_lines_and_properties(shop):
    c = next(c for c in shop.checkouts.values() if c["customer_id"])
    cust = shop.customers[c["customer_id"]]
    payload = wire(render.checkout(c, cust))
    rec = map_checkout(payload)
    assert rec.external_id == str(c["id"]) and rec.token == c["token"]
    assert rec.amount_total == Decimal(payload["total_price"])
    assert [ln.qty for ln in rec.lines] == [ln["quantity"] for ln in c["lines"]]
    assert set(rec.properties) <= set(CHECKOUT_PROPERTIES) | {"customer_id"}
    assert rec.properties["abandoned_checkout_url"] == payload["abandoned_checkout_url"]
    assert rec.properties["customer_id"] == str(cust["id"])
    assert (rec.buyer is None) == (not cust["email"])
    check_records([rec])


def test_h9_product_price_images_and_properties(shop):
    p = next(iter(shop.products.values()))
    payload = wire(render.product(p))
    rec = map_product(payload)
    assert rec.price == p["price"] and rec.name == p["title"] and rec.status == "active"
    assert rec.properties["images"] == [payload["images"][0]["src"]]
    assert "variants" not in rec.properties


def test_h7_h3_destroy_events_of_orders_and_products_only():
    def event(kind: str, verb: str = "destroy") -> dict:
        return {"id": 1, "subject_id": 9007199254740995, "subject_type": kind, "verb": verb}

    assert map_event(event("Order")) == DeletionRecord("shopify", "order", "9007199254740995")
    assert map_event(event("Product")) == DeletionRecord("shopify", "product", "9007199254740995")
    assert map_event(event("Customer")) is None  # H3: nothing deleted in the hub
    assert map_event(event("Order", "create")) is None


def test_compliance_payloads_map_to_privacy_records(shop):
    c = next(c for c in shop.customers.values() if c["email"] and c["orders_count"])
    orders = [oid for oid, o in shop.orders.items() if o["customer_id"] == c["id"]]
    for topic, action in (
        ("customers/data_request", "data_request"),
        ("customers/redact", "customer_redact"),
        ("shop/redact", "shop_redact"),
    ):
        rec = map_privacy(topic, wire(compliance_body(topic, c, orders)))
        assert rec.action == action and rec.source == "shopify"
        if topic != "shop/redact":
            assert rec.customer_external_id == str(c["id"]) and rec.email == c["email"]
            assert rec.orders == [str(x) for x in orders]
    assert map_privacy("orders/create", {}) is None
