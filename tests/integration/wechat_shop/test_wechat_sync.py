"""W4/W6/W7 against the sandbox over real HTTP: products (5, 11, 12, 13 taken; 0, 6, 9 never)
read before orders (20/30/100/200/250 of any age; 10 never), ids above 2^53 exact."""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import func, select

from hub.extensions import db
from hub.models import Customer, Event, Identity, Order, Product
from hub.services import tokens
from tests.integration.wechat_shop.conftest import count, order, order_lines, product, sync

TAKEN_ORDERS = ("20", "30", "100", "200", "250")
TAKEN_SPUS = ("5", "11", "12", "13")


def test_w6_full_sync_takes_every_paid_order_of_any_age(store, sandbox, workspace):
    run = sync(store, full=True)
    assert run.status == "succeeded", run.error
    truth = sandbox.truth()
    by_status = truth["orders_by_status"]
    assert by_status.get("10"), "the sandbox has unpaid orders to drop"
    assert by_status.get("200") and by_status.get("250")
    # W6: cancelled orders (200, 250) are taken too, even first seen so (no event); never 10
    expected = sum(n for s, n in by_status.items() if s in TAKEN_ORDERS)
    assert count(Order, workspace.id) == expected
    statuses = dict(
        db.session.execute(
            select(Order.platform_status, Order.status).where(Order.workspace_id == workspace.id)
        ).all()
    )
    assert statuses == {
        "20": "paid",
        "30": "shipped",
        "100": "completed",
        "200": "closed",
        "250": "closed",
    }
    assert "skipped" not in run.counts["orders"]
    cancelled = (
        select(func.count())
        .select_from(Order)
        .where(Order.workspace_id == workspace.id, Order.status == "closed", Order.amount_paid != 0)
    )
    assert db.session.scalar(cancelled) == 0  # cancelled: nothing paid kept


def test_w6_refund_after_sync_cancels_the_stored_order_and_resync_updates(
    store, sandbox, workspace
):
    paid, done = sandbox.control("orders", count=2, paid=True)["order_ids"]
    sandbox.control(f"orders/{done}/ship")
    sync(store, full=True)
    assert order(workspace.id, paid).status == "paid"
    assert order(workspace.id, done).status == "shipped"
    sandbox.control(f"orders/{paid}/refund")  # every unit refunded: 200
    sandbox.control(f"orders/{done}/complete")  # 30 -> 100
    run = sync(store)
    assert run.status == "succeeded", run.error
    closed = order(workspace.id, paid)
    assert closed.status == "closed" and closed.platform_status == "200"
    assert closed.amount_paid == Decimal("0") and closed.closed_at is not None
    events = db.session.scalars(
        select(Event.type).where(Event.workspace_id == workspace.id, Event.order_id == closed.id)
    ).all()
    assert "cancel" in events
    assert order(workspace.id, done).status == "completed"


def test_w6_ids_above_2_53_exact_and_fields_mapped(store, sandbox, workspace, client):
    sync(store, full=True)
    big = max(o for o, x in sandbox.shop.orders.items() if x.status == 20)
    assert big > 2**53
    row = order(workspace.id, str(big))
    assert row is not None and row.order_no == str(big)
    src = sandbox.shop.orders[big]
    assert row.sales_channel == "wechat_shop"  # the key of "WeChat Mini Shop" (issue 22.5)
    assert row.amount_total == Decimal(src.order_price) / 100
    assert row.ordered_at.tzinfo is not None
    assert row.properties["delivery_method"] in ("express", "same_city", "self_pickup")
    assert row.consignee_name == src.address[0]
    buyer = db.session.scalar(
        select(Identity.customer_id).where(
            Identity.workspace_id == workspace.id,
            Identity.type == "wx_openid",
            Identity.value == src.openid,
        )
    )
    assert buyer is not None and row.customer_id == buyer
    assert db.session.get(Customer, buyer).mobile == src.address[1]  # the consignee's phone
    lines = order_lines(row.id)
    assert lines == {f"{ln.product_id}:{ln.sku_id}": ln.sku_cnt for ln in src.lines}
    # the JSON API shows the id as a string, every digit kept
    headers = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}
    body = client.get(f"/api/v1/orders/{row.id}", headers=headers).get_json()
    assert body["external_id"] == str(big) and body["order_no"] == str(big), body
    assert body["properties"]["delivery_method"] == row.properties["delivery_method"]
    assert body["consignee"]["name"] == src.address[0], body["consignee"]
    listed = client.get("/api/v1/orders?sales_channel=WeChat Mini Shop", headers=headers)
    assert str(big) in {o["external_id"] for o in listed.get_json()["items"]}


def test_w4_products_listed_and_delisted_taken_never_draft_or_deleted(store, sandbox, workspace):
    run = sync(store, full=True)
    assert run.status == "succeeded", run.error
    spus = sandbox.shop.spus
    taken = {str(p) for p, s in spus.items() if str(s.status) in TAKEN_SPUS}
    never = {str(p) for p, s in spus.items() if str(s.status) not in TAKEN_SPUS}
    assert never, "the sandbox has SPUs in 0/6/9"
    rows = dict(
        db.session.execute(
            select(Product.external_id, Product.status).where(Product.workspace_id == workspace.id)
        ).all()
    )
    for pid in taken:
        assert rows[pid] == ("on_sale" if spus[int(pid)].status == 5 else "off_shelf")
    ordered = {str(ln.product_id) for o in sandbox.shop.orders.values() for ln in o.lines}
    assert never - ordered <= never - set(rows)  # a 0/6/9 SPU arrives only through an order
    one = product(workspace.id, next(iter(taken)))
    assert one.properties["groups"] == ["Mini Shop migration"]


def test_w6_an_order_updated_while_the_list_is_paged_skips_no_other_order(
    app, store, sandbox, workspace
):
    from datetime import UTC, datetime, timedelta

    from hub.connectors import SyncWindow
    from hub.models import Connection
    from hub.sync import runtime

    connector = runtime.connector_for(db.session.get(Connection, store.id))
    orders = connector.streams()[1]
    orders.page_size = 10
    now = datetime.now(UTC)
    pages = orders.read(SyncWindow(now - timedelta(days=3650), now, True), {})
    first = next(pages)
    read = {r.external_id for r in first.records if hasattr(r, "ordered_at")}
    target = next(
        o for o in sorted(read, key=int)
        if not any(ln.on_aftersale_sku_cnt for ln in sandbox.shop.orders[int(o)].lines)
    )  # fmt: skip
    time.sleep(1.02 - time.time() % 1)
    sandbox.control(f"orders/{target}/aftersale")  # updated now: it leaves the window
    for page in pages:
        read |= {r.external_id for r in page.records if hasattr(r, "ordered_at")}
    taken = {str(o) for o, x in sandbox.shop.orders.items() if x.status != 10}
    assert taken - read == set()
