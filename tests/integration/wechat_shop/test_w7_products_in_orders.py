"""W7 (and W2's rules at the connector): a product first met in an order is created at once,
in the same page before the order, with the migration rules in force; a product already in the
hub is left untouched by it. The rules live in ``Connection.settings["migration"]``."""

from __future__ import annotations

from decimal import Decimal

from hub.extensions import db
from hub.models import Connection
from tests.integration.wechat_shop.conftest import order, product, sync


def _rules(conn: Connection, **rules) -> None:
    row = db.session.get(Connection, conn.id)
    row.settings = {**row.settings, "migration": rules}
    db.session.commit()


def test_w7_a_product_first_met_in_an_order_is_created_with_the_rules(store, sandbox, workspace):
    _rules(store, product_status="warehouse", group="From orders",
           freight={"mode": "flat", "amount": "8.00"})  # fmt: skip
    # a draft SPU (status 0) is never read by the products stream (W4), only met in an order
    [pid] = sandbox.control("products", count=1, status=0)["product_ids"]
    [oid] = sandbox.control("orders", count=1, paid=True, items=[{"product_id": pid}])["order_ids"]
    run = sync(store, full=True)
    assert run.status == "succeeded", run.error_message
    made = product(workspace.id, pid)
    assert made is not None, "the product met in the order was created"
    line = sandbox.shop.orders[int(oid)].lines[0]
    assert made.name == line.title and made.price == Decimal(line.sale_price) / 100
    assert made.status == "warehouse"
    assert made.properties["groups"] == ["From orders"]
    assert made.properties["freight"] == {"mode": "flat", "amount": "8.00"}
    assert order(workspace.id, oid) is not None


def test_w7_an_order_leaves_a_product_already_in_the_hub_untouched(store, sandbox, workspace):
    assert sync(store, full=True).status == "succeeded"
    listed = next(str(p) for p, s in sandbox.shop.spus.items() if s.status == 5)
    before = product(workspace.id, listed)
    assert before.status == "on_sale"
    _rules(store, product_status="warehouse", group=None, skip_migrated=True)
    sandbox.control("orders", count=1, paid=True, items=[{"product_id": listed}])
    assert sync(store).status == "succeeded"
    after = product(workspace.id, listed)
    assert (after.status, after.name, after.properties) == (
        before.status, before.name, before.properties)  # fmt: skip


def test_w2_rules_skip_migrated_false_rewrites_with_the_rules(store, sandbox, workspace):
    assert sync(store, full=True).status == "succeeded"
    listed = next(str(p) for p, s in sandbox.shop.spus.items() if s.status == 5)
    _rules(store, product_status="warehouse", group="Second pass", skip_migrated=False,
           freight={"mode": "template", "template_id": "13800000002"})  # fmt: skip
    assert sync(store, full=True).status == "succeeded"
    again = product(workspace.id, listed)
    assert again.status == "warehouse"
    assert "Second pass" in again.properties["groups"]
    assert again.properties["freight"] == {"mode": "template", "template_id": "13800000002"}
