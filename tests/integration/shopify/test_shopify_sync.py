"""The Shopify connector end to end against the sandbox over real HTTP: bind, sync, the H
rules a poll can prove (H1, H2, H4, H5, H7, H9, H10), paging, the leaky bucket, ids > 2^53."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from hub.extensions import db
from hub.models import Customer, Order, Product
from tests.integration.shopify.conftest import order, sync


def test_h5_first_sync_reads_every_order_customer_product_and_matches_the_truth(
    workspace, store, sandbox
):
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    truth = sandbox.truth()
    within = {oid for oid, o in truth["orders"].items() if o["updated_at"]}
    hub = dict(
        db.session.execute(
            select(Order.external_id, Order.amount_total).where(
                Order.workspace_id == workspace.id
            )
        ).all()
    )
    assert set(hub) <= within and len(hub) > 50
    for oid, total in hub.items():
        assert total == Decimal(truth["orders"][oid]["total_price"]), oid
    n_products = db.session.scalar(select(func.count(Product.id)))
    assert n_products == len(truth["products"])
    assert db.session.scalar(select(func.count(Customer.id))) > 10
    some = next(iter(hub))
    assert order(workspace.id, some).order_no == truth["orders"][some]["name"]
