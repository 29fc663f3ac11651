"""H3 end to end against the Youzan sandbox over real HTTP: a customer deleted in the hub is
not brought back by a later sync nor by a pushed update of its orders."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.models import Customer, Identity, Order
from hub.services import tokens
from tests.integration.youzan.conftest import customer_of, run_webhook_worker, sync


@pytest.fixture
def sandbox_orders() -> int:
    return 10


def test_h3_deleted_customer_stays_deleted_through_sync_and_pushes(
    app, client, workspace, store, sandbox, hub_server
):
    [tid] = sandbox.control("orders", count=1, paid=True)["tids"]
    assert sync(store).status == "succeeded"
    cid = customer_of(workspace.id, tid).id
    held = {(t, v) for t, v in db.session.execute(
        select(Identity.type, Identity.value).where(Identity.customer_id == cid))}  # fmt: skip
    customers = db.session.scalar(select(func.count(Customer.id)))
    admin = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'admin')[1]}"}
    assert client.delete(f"/api/v1/customers/{cid}", headers=admin).status_code == 200

    sandbox.control(f"orders/{tid}/ship")  # the shop updates the deleted buyer's order
    assert sync(store, full=True).status == "succeeded"
    sandbox.control("push", url=f"{hub_server}/webhooks/youzan/{store.id}", retry_delays=[0.01])
    sandbox.control(f"orders/{tid}/succeed")  # and pushes the next change
    assert all(s["acked"] for s in sandbox.control("push/flush")["sent"])
    run_webhook_worker(app)

    db.session.expire_all()
    got = db.session.scalar(select(Order).where(Order.external_id == tid))
    assert (got.status, got.customer_id) == ("completed", None)
    assert db.session.get(Customer, cid) is None
    assert db.session.scalar(select(func.count(Customer.id))) == customers - 1
    now = {(t, v) for t, v in db.session.execute(select(Identity.type, Identity.value))}
    assert held and not held & now
