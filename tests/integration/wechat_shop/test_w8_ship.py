"""W8 at the connector: carriers from the platform, ``ship`` reads the order first and refuses
what the shop would refuse (already shipped, after-sale, not paid, unknown carrier, malformed
waybill, unknown order) with a code and a plain reason; sends only the items not yet shipped;
returns the order re-read (shipped)."""

from __future__ import annotations

import pytest

from hub.connectors import Shipment
from hub.core.errors import ShipmentRefused
from hub.extensions import db
from hub.models import Connection
from hub.sync import runtime


@pytest.fixture
def connector(store):
    return runtime.connector_for(db.session.get(Connection, store.id))


def _two_product_order(sandbox) -> str:
    spus = [p for p, s in sandbox.shop.spus.items() if s.status == 5][:2]
    items = [{"product_id": str(p), "count": 2} for p in spus]
    return sandbox.control("orders", count=1, paid=True, items=items, delivery_method=0)[
        "order_ids"
    ][0]


def _refused(connector, order_id: str, carrier: str = "SF", waybill: str = "SF1234567890"):
    with pytest.raises(ShipmentRefused) as info:
        connector.ship(Shipment(order_id, carrier, waybill))
    return info.value


def test_w8_carriers_and_freight_templates_come_from_the_platform(connector):
    carriers = connector.carriers()
    assert ("SF", "顺丰速运") in [(c.code, c.name) for c in carriers]
    templates = connector.freight_templates()
    assert {t["template_id"] for t in templates} >= {"13800000001"}


def test_w8_ship_sends_the_whole_order_and_returns_it_shipped(connector, sandbox):
    oid = _two_product_order(sandbox)
    result = connector.ship(Shipment(oid, "SF", "SF1234567890"))
    src = sandbox.shop.orders[int(oid)]
    assert sorted(result.shipped_lines) == sorted(
        f"{ln.product_id}:{ln.sku_id}" for ln in src.lines
    )
    assert result.skipped_lines == []
    assert result.order is not None and result.order.status == "shipped"
    assert result.order.external_id == oid
    [sent] = [s for s in sandbox.truth()["shipments"] if s["order_id"] == oid]
    assert (sent["delivery_id"], sent["waybill_id"]) == ("SF", "SF1234567890")
    again = _refused(connector, oid)
    assert again.code == "already_shipped" and oid in str(again)


def test_w8_ship_skips_items_already_shipped(connector, sandbox):
    oid = _two_product_order(sandbox)
    first = sandbox.shop.orders[int(oid)].lines[0]
    answer = sandbox.api(
        "/product/delivery/send",
        order_id=int(oid),
        delivery_list=[{"delivery_id": "YTO", "waybill_id": "YT0001", "is_all_product": False,
                        "product_infos": [{"product_id": first.product_id,
                                           "sku_id": first.sku_id, "product_cnt": 2}]}],
    )  # fmt: skip
    assert answer["errcode"] == 0, answer
    assert sandbox.shop.orders[int(oid)].status == 20  # partly shipped
    result = connector.ship(Shipment(oid, "SF", "SF999000111"))
    assert result.skipped_lines == [f"{first.product_id}:{first.sku_id}"]
    assert len(result.shipped_lines) == 1 and result.order.status == "shipped"


def test_w8_ship_refused_with_an_item_in_after_sale(connector, sandbox):
    oid = _two_product_order(sandbox)
    sandbox.control(f"orders/{oid}/aftersale", line=1, count=1)
    refused = _refused(connector, oid)
    assert refused.code == "after_sale" and "after-sale" in str(refused)
    assert not [s for s in sandbox.truth()["shipments"] if s["order_id"] == oid]


def test_w8_ship_refusals_name_the_reason(connector, sandbox):
    unpaid = sandbox.control("orders", count=1, paid=False)["order_ids"][0]
    assert _refused(connector, unpaid).code == "not_shippable"
    oid = _two_product_order(sandbox)
    assert _refused(connector, oid, carrier="NOPE").code == "carrier"
    assert _refused(connector, oid, waybill="no waybill!").code == "waybill"
    assert _refused(connector, "9" * 19).code == "not_found"
    shipped = next(str(o) for o, x in sandbox.shop.orders.items() if x.status in (30, 100))
    assert _refused(connector, shipped).code == "already_shipped"
    refused = _refused(connector, unpaid)
    assert refused.message.startswith("Order %(order)s") and refused.params["order"] == unpaid
