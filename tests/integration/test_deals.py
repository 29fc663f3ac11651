"""Deals of the ecommerce pipeline through the one ingest path on a real database (H5 stages of
every source, H6 checkouts, H7 deletion, X3 forward only, the checkout taken over by its order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from hub.core import ingest
from hub.core.errors import InvalidRecord
from hub.core.records import CheckoutRecord, CustomerRecord, DeletionRecord, LineRecord
from hub.extensions import db
from hub.models import Customer, Deal, Event, Identity, Order
from tests.support.orders import order

D = Decimal
NOW = datetime.now(UTC)


def shopify_order(ext: str, version: int = 1, status: str = "paid", **props: object):
    rec = order(ext, status=status, version=version, source="shopify",
                identities=[("email", f"{ext.lower()}@tea-lovers.cn")])  # fmt: skip
    rec.properties = {"name": f"#{ext}", "order_number": 1000 + version, "currency": "USD",
                      "total_price": "100.00", "note": None, **props}  # fmt: skip
    rec.currency = "USD"
    return rec


def checkout(
    ext: str,
    *,
    updated: datetime | None = None,
    completed: datetime | None = None,
    email: str | None = "cart@tea-lovers.cn",
    token: str | None = None,
) -> CheckoutRecord:
    at = updated or NOW - timedelta(hours=5)
    buyer = CustomerRecord(identities=[("email", email)], email=email, name="Ann Cart")
    return CheckoutRecord(
        source="shopify",
        external_id=ext,
        created_at=at - timedelta(minutes=10),
        updated_at=at,
        completed_at=completed,
        token=token or f"tok-{ext}",
        buyer=buyer if email else None,
        lines=[
            LineRecord(
                external_id="L1",
                product_external_id="P1",
                sku_id="SKU-1",
                name="Green tea",
                qty=2,
                unit_price=D("12.50"),
            )
        ],  # fmt: skip
        amount_total=D("25.00"),
        currency="USD",
        properties={
            "abandoned_checkout_url": f"https://shop/{ext}/recover",
            "token": token or f"tok-{ext}",
            "cart_token": f"cart-{ext}",
            "total_price": "25.00",
            "not_h8": "x",
        },  # fmt: skip
    )


def deal(**where) -> Deal | None:
    db.session.expire_all()
    return db.session.scalar(select(Deal).filter_by(**where))


def test_h5_every_order_of_every_source_gets_a_deal_in_its_transaction(workspace):
    ingest.apply(db.session, workspace.id, [
        order("Y1", status="pending", source="youzan"),
        order("Y2", status="paid", source="youzan"),
        order("T1", status="shipped", source="tmall"),
        order("S1", status="completed", source="sobot"),
    ])  # fmt: skip
    stages = dict(db.session.execute(select(Deal.external_id, Deal.stage)).all())
    assert stages == {"Y1": "checkout_completed", "Y2": "processed", "T1": "shipped",
                      "S1": "shipped"}  # fmt: skip
    d = deal(external_id="Y2")
    o = db.session.scalar(select(Order).where(Order.external_id == "Y2"))
    assert (d.kind, d.order_id, d.customer_id, d.amount, d.currency, d.name) == (
        "order",
        o.id,
        o.customer_id,
        D("100.00"),
        "CNY",
        "Y2",
    )
    ingest.apply(db.session, workspace.id, [order("Y2", status="closed", version=2,
                                                  source="youzan")])  # fmt: skip
    assert deal(external_id="Y2").stage == "cancelled"


@pytest.mark.parametrize(
    ("props", "stage"),
    [
        ({"financial_status": "paid", "cancelled_at": "2026-01-02T00:00:00Z"}, "cancelled"),
        ({"financial_status": "refunded", "fulfillment_status": "fulfilled"}, "cancelled"),
        ({"financial_status": "voided"}, "cancelled"),
        ({"financial_status": "partially_refunded", "fulfillment_status": "fulfilled"}, "shipped"),
        ({"financial_status": "partially_refunded"}, "processed"),
        ({"financial_status": "paid", "fulfillment_status": "partial"}, "processed"),
        ({"financial_status": "authorized"}, "checkout_completed"),
    ],
)
def test_h5_shopify_order_stage_rules_through_the_store(workspace, props, stage):
    ingest.apply(db.session, workspace.id, [shopify_order("1001", **props)])
    d = deal(external_id="1001")
    assert d.stage == stage
    assert d.name == "#1001"
    assert d.properties["financial_status"] == props["financial_status"]
    assert "not_h8" not in d.properties and d.properties["currency"] == "USD"


def test_x3_an_older_order_snapshot_never_moves_a_deal_back(workspace):
    ingest.apply(db.session, workspace.id, [shopify_order("9", version=5, status="shipped",
        financial_status="paid", fulfillment_status="fulfilled")])  # fmt: skip
    assert deal(external_id="9").stage == "shipped"
    ingest.apply(db.session, workspace.id, [shopify_order("9", version=3,
        financial_status="pending")])  # fmt: skip
    assert deal(external_id="9").stage == "shipped"
    # newer, but says less (a fulfilment cancelled): forward only, the deal stays shipped
    ingest.apply(db.session, workspace.id, [shopify_order("9", version=6,
        financial_status="paid", fulfillment_status=None)])  # fmt: skip
    assert deal(external_id="9").stage == "shipped"
    ingest.apply(db.session, workspace.id, [shopify_order("9", version=7, status="closed",
        financial_status="refunded", cancelled_at="2026-01-03T00:00:00Z")])  # fmt: skip
    assert deal(external_id="9").stage == "cancelled"
    # cancelled is terminal
    ingest.apply(db.session, workspace.id, [shopify_order("9", version=8,
        financial_status="paid", fulfillment_status="fulfilled")])  # fmt: skip
    assert deal(external_id="9").stage == "cancelled"


def test_h6_abandoned_checkout_is_a_deal_its_buyer_a_contact_one_event(workspace):
    for _ in range(2):
        result = ingest.apply(db.session, workspace.id, [checkout("C1")])
    d = deal(kind="checkout", external_id="C1")
    assert d.stage == "checkout_abandoned" and d.order_id is None
    assert d.line_items == [{"product_external_id": "P1", "sku": "SKU-1", "name": "Green tea",
                             "qty": 2, "price": "12.50"}]  # fmt: skip
    assert d.properties == {
        "abandoned_checkout_url": "https://shop/C1/recover",
        "token": "tok-C1",
        "cart_token": "cart-C1",
        "total_price": "25.00",
    }
    customer = db.session.get(Customer, d.customer_id)
    assert customer.email == "cart@tea-lovers.cn"
    events = db.session.scalars(select(Event).where(Event.type == "checkout_abandoned")).all()
    assert [(e.customer_id, e.amount) for e in events] == [(customer.id, D("25.00"))]
    assert "checkout_abandoned" not in result.counts.get("events", {})  # recorded once


def test_h6_recent_checkout_is_pending_then_abandoned(workspace):
    ingest.apply(db.session, workspace.id, [checkout("C2", updated=NOW - timedelta(minutes=5))])
    assert deal(external_id="C2").stage == "checkout_pending"
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    # an hour later, with the next checkouts of the shop: abandoned, its event recorded
    db.session.execute(update(Deal).values(stage_at=NOW - timedelta(minutes=61)))
    db.session.commit()
    result = ingest.apply(db.session, workspace.id, [checkout("C3")])
    assert deal(external_id="C2").stage == "checkout_abandoned"
    assert result.counts["events"]["checkout_abandoned"] == 2
    keys = set(db.session.scalars(select(Event.dedupe_key)))
    assert keys == {"shopify:checkout:C2:abandoned", "shopify:checkout:C3:abandoned"}
    # an older snapshot changes nothing
    ingest.apply(db.session, workspace.id, [checkout("C2", updated=NOW - timedelta(hours=9),
                                                     completed=NOW)])  # fmt: skip
    assert deal(external_id="C2").stage == "checkout_abandoned"


def test_h6_checkout_buyer_joins_the_existing_customer_by_email(workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [CustomerRecord(identities=[("email", "cart@tea-lovers.cn")], email="cart@tea-lovers.cn")],
    )
    ingest.apply(db.session, workspace.id, [checkout("C3"), checkout("C4", email=None)])
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
    assert deal(external_id="C4").customer_id is None
    assert deal(external_id="C4").stage == "checkout_abandoned"
    assert db.session.scalar(select(func.count()).select_from(Identity)) == 1


def test_h6_completed_checkout_hands_its_deal_on_to_the_order(workspace):
    ingest.apply(db.session, workspace.id, [checkout("C5")])
    before = deal(kind="checkout", external_id="C5")
    ingest.apply(db.session, workspace.id, [shopify_order("2001", financial_status="paid",
                                                          checkout_token="tok-C5")])  # fmt: skip
    after = deal(external_id="2001")
    o = db.session.scalar(select(Order).where(Order.external_id == "2001"))
    assert (after.id, after.kind, after.order_id, after.stage, after.line_items) == (
        before.id,
        "order",
        o.id,
        "processed",
        None,
    )
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 1
    # the checkout seen again (now completed) does not bring a second deal back
    ingest.apply(db.session, workspace.id, [checkout("C5", updated=NOW, completed=NOW)])
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 1


def test_h7_an_order_deleted_on_the_shop_deletes_its_deal(workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [
            shopify_order("3001", financial_status="paid"),
            shopify_order("3002", financial_status="paid"),
        ],
    )
    result = ingest.apply(
        db.session,
        workspace.id,
        [DeletionRecord(source="shopify", object="order", external_id="3001")],
    )
    assert result.counts["orders"]["deleted"] == 1
    assert [d.external_id for d in db.session.scalars(select(Deal))] == ["3002"]


def test_checkout_record_checks_name_the_field(workspace):
    bad = checkout("C9")
    bad.amount_total = 25.0  # type: ignore[assignment]
    with pytest.raises(InvalidRecord, match=r"checkout 'C9' from 'shopify'.*amount_total"):
        ingest.apply(db.session, workspace.id, [bad])
    bad = checkout("C9")
    bad.updated_at = datetime(2026, 1, 1)
    with pytest.raises(InvalidRecord, match="updated_at must be timezone-aware"):
        ingest.apply(db.session, workspace.id, [bad])
    bad = checkout("C9")
    bad.lines[0].unit_price = 1.5  # type: ignore[assignment]
    with pytest.raises(InvalidRecord, match=r"lines\[0\]\.unit_price"):
        ingest.apply(db.session, workspace.id, [bad])


API = "/api/v1"
FIELDS = {"id", "external_id", "name", "stage", "amount", "currency", "customer_id", "order_id",
          "properties", "line_items"}  # fmt: skip


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    from hub.services import tokens

    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}


def test_h5_api_lists_deals_with_exactly_the_issues_fields(client, workspace, other_workspace,
                                                           auth):  # fmt: skip
    ingest.apply(db.session, workspace.id, [
        shopify_order("4001", financial_status="paid", cancel_reason=None),
        order("Y9", status="shipped", source="youzan"),
        checkout("C7"),
    ])  # fmt: skip
    ingest.apply(db.session, other_workspace.id, [order("Z1", status="paid", source="youzan")])
    body = client.get(f"{API}/deals", headers=auth).get_json()
    assert body["total"] == 3 and {"page", "per_page"} <= set(body)
    assert all(set(item) == FIELDS for item in body["items"])
    by_ext = {item["external_id"]: item for item in body["items"]}
    o = db.session.scalar(select(Order).where(Order.external_id == "4001"))
    assert by_ext["4001"] == {
        "id": by_ext["4001"]["id"], "external_id": "4001", "name": "#4001",
        "stage": "processed", "amount": "100.00", "currency": "USD",
        "customer_id": o.customer_id, "order_id": o.id,
        "properties": {"name": "#4001", "order_number": 1001, "currency": "USD",
                       "total_price": "100.00", "note": None, "financial_status": "paid",
                       "cancel_reason": None},
        "line_items": [
            {"product_external_id": "P0", "sku": "S0", "name": "Tea 0", "qty": 1,
             "price": "50.00"},
            {"product_external_id": "P1", "sku": "S1", "name": "Tea 1", "qty": 1,
             "price": "50.00"},
        ],
    }  # fmt: skip
    assert by_ext["C7"]["order_id"] is None and by_ext["C7"]["stage"] == "checkout_abandoned"
    assert by_ext["C7"]["line_items"][0]["price"] == "12.50"
    stage = client.get(f"{API}/deals?stage=shipped", headers=auth).get_json()
    assert [i["external_id"] for i in stage["items"]] == ["Y9"]
    source = client.get(f"{API}/deals?source=Shopify", headers=auth).get_json()
    assert {i["external_id"] for i in source["items"]} == {"4001", "C7"}
    cid = by_ext["C7"]["customer_id"]
    mine = client.get(f"{API}/deals?customer_id={cid}", headers=auth).get_json()
    assert [i["external_id"] for i in mine["items"]] == ["C7"]
    paged = client.get(f"{API}/deals?per_page=2&page=2", headers=auth).get_json()
    assert len(paged["items"]) == 1 and paged["total"] == 3
    one = client.get(f"{API}/deals/{by_ext['C7']['id']}", headers=auth).get_json()
    assert one == by_ext["C7"]
    other = db.session.scalar(select(Deal).where(Deal.external_id == "Z1"))
    assert client.get(f"{API}/deals/{other.id}", headers=auth).status_code == 404


def test_h5_api_refuses_an_unknown_stage_naming_the_parameter(client, workspace, auth):
    response = client.get(f"{API}/deals?stage=won", headers=auth)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "stage" in error["message"] and "checkout_abandoned" in error["message"]


def test_h6_dashboard_abandoned_checkouts_recovered_shows_real_numbers(client, workspace):
    from hub.analytics.dashboard import build
    from tests.support.ui import login, make_user

    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    recovered = shopify_order("5001", financial_status="paid", checkout_token="tok-C10")
    recovered.buyer.identities = [("email", "cart@tea-lovers.cn")]
    recovered.ordered_at, recovered.updated_at = t0 + timedelta(days=2), t0 + timedelta(days=2)
    ingest.apply(
        db.session,
        workspace.id,
        [checkout("C10", updated=t0), checkout("C11", updated=t0, email="lost@tea-lovers.cn")],
    )
    ingest.apply(db.session, workspace.id, [recovered])
    board = build(workspace.id, "2026-03-01", "2026-03-31")
    assert (board.kpis["abandoned"], board.kpis["recovered"]) == (2, 1)
    assert board.kpis["recovered_revenue"] == 100.0
    assert "checkouts" not in board.empty
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    html = client.get("/dashboard?start=2026-03-01&end=2026-03-31").get_data(as_text=True)
    assert (
        'data-kpi="abandoned"><div class="label">Abandoned checkouts</div><div class="value">2<'
        in html
    )
    assert (
        'data-kpi="recovered"><div class="label">Recovered checkouts</div><div class="value">1<'
        in html
    )


def test_h5_migration_backfills_a_deal_for_every_existing_order(app):
    """Orders stored before the deals table get their deal, set-based, in the migration."""
    import flask_migrate
    from sqlalchemy import text

    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.drop_all()
    flask_migrate.upgrade()
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (name, slug, created_at) "
                          "VALUES ('A', 'a', CURRENT_TIMESTAMP)"))  # fmt: skip
    ws = db.session.scalar(text("SELECT id FROM workspaces"))
    statuses = ["pending", "paid", "shipped", "completed"]
    ingest.apply(db.session, ws, [order(f"O{i}", status=s, source="youzan")
                                  for i, s in enumerate(statuses)])  # fmt: skip
    ingest.apply(db.session, ws, [order("O1", status="closed", version=2, source="youzan")])
    columns = "workspace_id, source, kind, external_id, order_id, customer_id, stage, amount"
    written = db.session.execute(text(f"SELECT {columns} FROM deals ORDER BY order_id")).all()
    db.session.remove()
    flask_migrate.downgrade(revision="b5e0c3a7d912")
    assert "deals" not in inspect_tables()
    flask_migrate.upgrade()
    backfilled = db.session.execute(text(f"SELECT {columns} FROM deals ORDER BY order_id")).all()
    assert backfilled == written
    assert [r.stage for r in backfilled] == [
        "checkout_completed", "cancelled", "shipped", "shipped"]  # fmt: skip


def inspect_tables() -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(db.engine).get_table_names())


def test_h6_maintenance_abandons_a_checkout_nobody_touches_again(app, workspace, other_workspace):
    """The workers' maintenance pass moves a checkout left pending past the window to
    abandoned and records its event, in every workspace."""
    from hub.core.store.deals import age_all_pending
    from hub.extensions import redis_connection
    from hub.jobs import maintenance
    from hub.jobs.queues import QUEUES

    recent = NOW - timedelta(minutes=10)
    ingest.apply(db.session, workspace.id, [checkout("P1", updated=recent)])
    ingest.apply(db.session, other_workspace.id, [checkout("P2", updated=recent)])
    assert age_all_pending(db.session) == 0
    assert age_all_pending(db.session, NOW + timedelta(minutes=51)) == 2
    assert {d.stage for d in db.session.scalars(select(Deal))} == {"checkout_abandoned"}
    events = db.session.scalars(select(Event)).all()
    assert sorted((e.workspace_id, e.dedupe_key) for e in events) == [
        (workspace.id, "shopify:checkout:P1:abandoned"),
        (other_workspace.id, "shopify:checkout:P2:abandoned"),
    ]
    assert age_all_pending(db.session, NOW + timedelta(hours=5)) == 0  # once
    # a real maintenance pass of a worker does it
    ingest.apply(db.session, workspace.id, [checkout("P3", updated=NOW - timedelta(minutes=61))])
    db.session.execute(update(Deal).where(Deal.external_id == "P3")
                       .values(stage="checkout_pending"))  # fmt: skip
    db.session.execute(delete(Event).where(Event.dedupe_key.like("%P3%")))
    db.session.commit()
    watch = maintenance.RedisWatch(redis_connection())
    maintenance.Maintenance(app, QUEUES, watch).run_pass()
    assert deal(external_id="P3").stage == "checkout_abandoned"
    assert db.session.scalar(select(func.count()).select_from(Event)
                             .where(Event.dedupe_key.like("%P3%"))) == 1  # fmt: skip


def test_h5_a_batch_of_several_chunks_written_behind_gets_every_deal(workspace):
    """3,000 orders (three chunks: written on a second thread, SQLite's snapshot reader or
    PostgreSQL's side connection), then their newer snapshots: one deal each, moved on."""
    first = [order(f"B{i}", status="paid", source="youzan", lines=1,
                   identities=[("yz_open_id", f"buyer-{i % 700}")])
             for i in range(3000)]  # fmt: skip
    ingest.apply(db.session, workspace.id, first)
    later = [order(f"B{i}", status="shipped" if i % 2 else "closed", version=2, source="youzan",
                   lines=1, identities=[("yz_open_id", f"buyer-{i % 700}")])
             for i in range(3000)]  # fmt: skip
    ingest.apply(db.session, workspace.id, later)
    stages = db.session.execute(select(Deal.stage, func.count()).group_by(Deal.stage)).all()
    assert dict(stages) == {"shipped": 1500, "cancelled": 1500}
    linked = select(func.count()).select_from(Deal).join(Order, Order.id == Deal.order_id)
    assert db.session.scalar(linked.where(Deal.customer_id == Order.customer_id)) == 3000


def test_updates_of_a_batch_run_on_the_driver_not_row_by_row_in_sqlalchemy(workspace):
    """Deals add an UPDATE per changed order; on SQLite every UPDATE of the write path (orders,
    lines, deals) now runs on the driver (on the write-behind thread inside one), so the
    ingest's update path got faster rather than slower (PostgreSQL: one unnesting UPDATE per
    table)."""
    from sqlalchemy import event

    ingest.apply(db.session, workspace.id, [order(f"U{i}", status="paid") for i in range(1500)])
    statements: list[str] = []

    def listener(*args: object, **kwargs: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = ingest.apply(
            db.session,
            workspace.id,
            [order(f"U{i}", status="shipped", version=2) for i in range(1500)],
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert result.counts["orders"]["updated"] == 1500 and result.counts["deals"]["updated"] == 1500
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    if db.engine.dialect.name == "sqlite":
        assert updates == []
    else:
        assert len(updates) <= 3 * 2  # orders, order_lines, deals (per chunk at most)
    assert {d.stage for d in db.session.scalars(select(Deal))} == {"shipped"}


def test_x4_a_merge_moves_the_customers_deals_and_its_undo_puts_them_back(workspace):
    from hub.core import merge

    ingest.apply(
        db.session,
        workspace.id,
        [shopify_order("6001", financial_status="paid"), checkout("C20", email="b@tea-lovers.cn")],
    )
    keep = deal(external_id="6001").customer_id
    gone = deal(external_id="C20").customer_id
    assert keep and gone and keep != gone
    entry = merge.merge(db.session, workspace.id, keep, gone, reason="same person")
    assert deal(external_id="C20").customer_id == keep
    merge.undo_merge(db.session, workspace.id, entry.id)
    assert deal(external_id="C20").customer_id == gone


def test_h3_a_customer_deleted_in_the_hub_leaves_its_deals_without_a_contact(workspace):
    """Whatever path deletes a customer row, its deals stay, without a contact (the
    foreign key sets it null, on SQLite as on PostgreSQL)."""
    from sqlalchemy import text

    ingest.apply(db.session, workspace.id, [checkout("C30", email="gone@tea-lovers.cn")])
    cid = deal(external_id="C30").customer_id
    db.session.execute(text("DELETE FROM events WHERE customer_id = :c"), {"c": cid})
    db.session.execute(text("DELETE FROM identities WHERE customer_id = :c"), {"c": cid})
    db.session.execute(text("DELETE FROM customers WHERE id = :c"), {"c": cid})
    db.session.commit()
    d = deal(external_id="C30")
    assert d is not None and d.customer_id is None
