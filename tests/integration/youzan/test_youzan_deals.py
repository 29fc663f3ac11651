"""H5 for another source: a Youzan sync over real HTTP gives every order its deal, its stage
the cross-platform analogue of the normalised status (PLATFORMS.md §5)."""

from __future__ import annotations

from sqlalchemy import select

from hub.core.plan.stages import STATUS_STAGES
from hub.extensions import db
from hub.models import Deal, Order
from tests.integration.youzan.conftest import sync


def test_h5_youzan_orders_become_deals_with_the_analogue_stage(workspace, store, sandbox):
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    rows = db.session.execute(
        select(Order.id, Order.status, Order.customer_id, Order.external_id, Deal)
        .outerjoin(Deal, Deal.order_id == Order.id)
        .where(Order.workspace_id == workspace.id)
    ).all()
    assert rows and all(r.Deal is not None for r in rows)
    for r in rows:
        d = r.Deal
        assert (d.kind, d.source, d.external_id, d.customer_id, d.stage) == (
            "order",
            "youzan",
            r.external_id,
            r.customer_id,
            STATUS_STAGES[r.status],
        )
    assert db.session.scalar(select(Deal.id).where(Deal.kind == "checkout")) is None
    assert len({r.status for r in rows}) > 1  # the sandbox's shop has orders in several states
