"""Listing pages decoded to the mapping's fields (connectors.shopify.pages) map to the very
records the whole payloads map to, for every record of a played sandbox shop (refunds,
cancellations, order edits, customers without e-mail, checkouts)."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from connectors.shopify import sandbox_render as render
from connectors.shopify.mapping import map_checkout, map_customer, map_order
from connectors.shopify.pages import decode_rows
from connectors.shopify.sandbox_data import Shop

EPOCH = 1_780_000_000


@pytest.fixture(scope="module")
def shop() -> Shop:
    s = Shop(24, now=EPOCH)
    s.generate(400)
    return s


def page(resource: str, rows: list[dict[str, Any]]) -> bytes:
    """A listing page as Shopify's JSON text."""
    return json.dumps({resource: rows}, ensure_ascii=False).encode()


def both_ways(resource: str, rows: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    content = page(resource, rows)
    trimmed = decode_rows(resource, content)
    assert trimmed is not None
    return orjson.loads(content)[resource], trimmed


def test_orders_map_the_same_from_the_trimmed_page(shop):
    rows = [
        render.order(o, shop.customers.get(o["customer_id"] or 0)) for o in shop.orders.values()
    ]
    whole, trimmed = both_ways("orders", rows)
    assert any(o.get("refunds") for o in whole) and any(o.get("cancelled_at") for o in whole)
    for first in (False, True):
        assert [map_order(o, first_sync=first) for o in trimmed] == [
            map_order(o, first_sync=first) for o in whole
        ]
    line = trimmed[0]["line_items"][0]
    assert "price_set" not in line and "price" in line  # the bags are skipped


def test_customers_and_checkouts_map_the_same_from_the_trimmed_page(shop):
    whole, trimmed = both_ways("customers", [render.customer(c) for c in shop.customers.values()])
    assert any(map_customer(c) is None for c in whole)  # customers without e-mail
    assert [map_customer(c, first_sync=True) for c in trimmed] == [
        map_customer(c, first_sync=True) for c in whole
    ]
    assert "addresses" not in trimmed[0]
    rows = [render.checkout(c, shop.customers.get(c["customer_id"] or 0))
            for c in shop.checkouts.values()]  # fmt: skip
    whole, trimmed = both_ways("checkouts", rows)
    assert [map_checkout(c) for c in trimmed] == [map_checkout(c) for c in whole]


def test_ids_stay_exact_integers():
    rows = decode_rows("orders", b'{"orders":[{"id":9007199254740993,"line_items":[]}]}')
    assert rows == [{"id": 9007199254740993, "line_items": []}]


@pytest.mark.parametrize(
    "content",
    [
        b'{"orders":[{"id":1,"customer":"someone"}]}',  # not the shape the mapping expects
        b'{"errors":"Not Found"}',
        b"<html>not JSON</html>",
    ],
)
def test_a_page_of_another_shape_is_left_to_the_whole_decode(content):
    assert decode_rows("orders", content) is None


def test_resources_without_a_schema_are_decoded_whole():
    assert decode_rows("events", b'{"events":[]}') is None
