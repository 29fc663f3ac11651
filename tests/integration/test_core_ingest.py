"""The one ingest path on a real database: Y7 amounts and events, X1 replay, X3, Y10,
failure isolation, dry run, deletions, cursors."""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import StatementError

from hub.core import ingest
from hub.core.ingest import CursorUpdate, IngestOptions
from hub.core.records import CustomerRecord, DeletionRecord, ProductRecord
from hub.extensions import db
from hub.models import (
    Connection,
    Cursor,
    Customer,
    Event,
    EventSetting,
    Identity,
    Order,
    OrderLine,
    Product,
)
from tests.support.dump import dump
from tests.support.orders import order, shop

D = Decimal


def count(model, **where):
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return db.session.scalar(stmt)


def events(ext):
    """The Y7 events of an order (a customer's first purchase, also on its order, left out)."""
    o = db.session.scalar(select(Order).where(Order.external_id == ext))
    found = db.session.scalars(select(Event).where(Event.order_id == o.id))
    return sorted(e.type for e in found if e.type != "first_purchase")


def add_event_settings(workspace_id: int, **settings: tuple[str | None, int]) -> None:
    """Y10 settings as event type=(stage to advance to, score delta)."""
    db.session.add_all(
        EventSetting(
            workspace_id=workspace_id, event_type=type_, advance_to_stage=stage, score_delta=delta
        )
        for type_, (stage, delta) in settings.items()
    )
    db.session.commit()


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL SQLAlchemy sends while the block runs."""
    statements: list[str] = []
    listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def test_x1_replaying_a_batch_leaves_the_database_identical(workspace):
    batch = shop(300, 80)
    ingest.apply(db.session, workspace.id, batch)
    before = dump(db.session)
    for _ in range(3):
        result = ingest.apply(db.session, workspace.id, batch)
        assert result.counts == {"orders": {"unchanged": 300}}
    assert dump(db.session) == before


def test_set_based_batch_of_1000_orders_costs_a_handful_of_queries(workspace):
    with recorded_statements() as statements:
        ingest.apply(db.session, workspace.id, shop(1000, 300))
    assert count(Order) == 1000
    assert len(statements) < 40, statements


def test_y10_settings_on_a_batch_of_1000_orders_are_one_update_not_one_per_customer(workspace):
    add_event_settings(workspace.id, purchase=("customer", 10), cancel=(None, -2))
    with recorded_statements() as statements:
        ingest.apply(db.session, workspace.id, shop(1000, 300))
    # one executemany (on SQLite on the driver's cursor, which SQLAlchemy does not see)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE CUSTOMERS")]
    assert len(updates) <= 1, updates
    assert len(statements) < 40
    expected = {}
    for e in db.session.scalars(select(Event).where(Event.type.in_(["purchase", "cancel"]))):
        expected[e.customer_id] = expected.get(e.customer_id, 0) + (
            10 if e.type == "purchase" else -2
        )
    scores = dict(db.session.execute(select(Customer.id, Customer.activity_score)).all())
    assert {cid: scores[cid] for cid in expected} == expected
    purchasers = {
        cid
        for (cid,) in db.session.execute(select(Event.customer_id).where(Event.type == "purchase"))
    }
    stages = dict(db.session.execute(select(Customer.id, Customer.stage)).all())
    assert purchasers and {stages[c] for c in purchasers} == {"customer"}


def test_y7_amounts_and_events_through_the_database(workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [
            order("A", status="completed"),
            order("B", status="closed"),
            order("C", status="paid"),
        ],
    )
    assert count(Order) == 2 and events("A") == ["purchase"] and events("C") == ["purchase"]
    ingest.apply(
        db.session,
        workspace.id,
        [
            order("A", status="completed", version=2, refunds=[("R1", "25.50")]),
            order("C", status="closed", version=2),
            order("B", status="closed", version=2),
        ],
    )
    a = db.session.scalar(select(Order).where(Order.external_id == "A"))
    c = db.session.scalar(select(Order).where(Order.external_id == "C"))
    assert (a.amount_paid, a.refunded_amount) == (D("74.50"), D("25.50"))
    assert (c.status, c.amount_paid, c.cancelled_amount) == ("closed", D("0.00"), D("100.00"))
    assert events("A") == ["purchase", "return"] and events("C") == ["cancel", "purchase"]
    assert count(Order) == 2  # B was never stored


def test_x3_older_snapshot_never_overwrites_newer(workspace):
    ingest.apply(db.session, workspace.id, [order("A", status="completed", version=5)])
    result = ingest.apply(db.session, workspace.id, [order("A", status="paid", version=3)])
    assert result.counts["orders"] == {"unchanged": 1}
    assert db.session.scalar(select(Order.status)) == "completed"


def test_within_a_batch_the_newest_snapshot_wins(workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [order("A", status="completed", version=5), order("A", status="paid", version=2)],
    )
    assert db.session.scalar(select(Order.status)) == "completed"


def test_y8_buyer_matched_by_priority_and_new_customer_from_consignee(workspace):
    ingest.apply(db.session, workspace.id, [order("A", identities=[("yz_open_id", "yz1")])])
    ingest.apply(
        db.session,
        workspace.id,
        [
            order("B", identities=[("yz_open_id", "yz2"), ("wx_openid", "o1")], name="Han Meimei"),
            order("C", identities=[("yz_open_id", "yz1"), ("wx_openid", "o9")]),
        ],
    )
    assert count(Customer) == 2
    first = db.session.scalar(select(Customer).where(Customer.name == "Li Lei"))
    assert first.mobile == "13912340000" and first.properties["province"] == "Zhejiang"
    ids = {
        (i.type, i.value)
        for i in db.session.scalars(select(Identity).where(Identity.customer_id == first.id))
    }
    # the consignee mobile is an identity too (issue 22.2); B's buyer shares it: not merged
    assert ids == {("yz_open_id", "yz1"), ("wx_openid", "o9"), ("mobile", "13912340000")}


def test_y10_event_settings_advance_stage_and_score(workspace):
    add_event_settings(workspace.id, purchase=("customer", 10), **{"return": (None, -4)})
    ingest.apply(db.session, workspace.id, [order("A"), order("B")])
    ingest.apply(db.session, workspace.id, [order("A", version=2, refunds=[("R", "5.00")])])
    ingest.apply(db.session, workspace.id, [order("A", version=2, refunds=[("R", "5.00")])])
    customer = db.session.scalar(
        select(Customer).where(
            Customer.id
            == db.session.scalar(select(Order.customer_id).where(Order.external_id == "A"))
        )
    )
    assert (customer.stage, customer.activity_score) == ("customer", 6)


def test_failed_record_leaves_nothing_behind(workspace):
    result = ingest.apply(
        db.session,
        workspace.id,
        [order("A", identities=[("customer_id", "999")]), order("B")],
    )
    assert [f.key for f in result.failures] == ["A"]
    assert "customer id 999 does not exist" in result.failures[0].reason
    assert count(Order) == 1 and count(Customer) == 1 and count(OrderLine) == 2


def test_a_batch_of_several_chunks_resolves_each_buyer_once(workspace):
    """A batch is planned and written chunk by chunk (on SQLite the writes of one chunk run
    while the next is planned); a buyer met again in a later chunk is the same customer."""
    batch = shop(2600, 40)
    assert len(batch) > 2 * ingest.ORDERS_PER_CHUNK
    result = ingest.apply(db.session, workspace.id, batch)
    assert result.counts["orders"] == {"created": 2600}
    assert count(Customer) == len({o.buyer.identities[0] for o in batch}) == 40
    owner = {
        (t, v): c for c, t, v in db.session.execute(select(Identity.customer_id, Identity.type,
                                                           Identity.value))
    }  # fmt: skip
    assert len(owner) == count(Identity)
    contact = ("mobile", "13912340000")  # every buyer's consignee mobile: the first one's
    assert set(owner) == {pair for o in batch for pair in o.buyer.identities} | {contact}
    orders = dict(db.session.execute(select(Order.external_id, Order.customer_id)).all())
    purchases = dict(
        db.session.execute(
            select(Order.external_id, Event.customer_id).join(Event, Event.order_id == Order.id)
        ).all()
    )
    for o in batch:
        assert {owner[pair] for pair in o.buyer.identities} == {orders[o.external_id]}
        assert purchases[o.external_id] == orders[o.external_id]
    assert count(OrderLine) == 5200


def test_a_bad_order_in_the_last_chunk_fails_the_whole_batch(workspace):
    batch = shop(2100, 50)
    batch[-1].amount_total = 12.5  # a float: money must be Decimal
    with pytest.raises((TypeError, StatementError), match="money must not be a float"):
        ingest.apply(db.session, workspace.id, batch)  # StatementError: PostgreSQL's path
    assert count(Order) == count(Customer) == count(Identity) == count(Event) == 0
    assert ingest.apply(db.session, workspace.id, batch[:-1]).counts["orders"] == {"created": 2099}


def test_an_order_not_taken_leaves_no_product_or_customer_behind(workspace):
    result = ingest.apply(db.session, workspace.id, [order("C", status="closed")])
    assert result.counts["orders"] == {"skipped": 1}
    assert count(Order) == count(Product) == count(Customer) == count(Identity) == 0


def test_x5_dry_run_reports_everything_and_writes_nothing(workspace):
    result = ingest.apply(
        db.session, workspace.id, shop(50, 20), options=IngestOptions(dry_run=True)
    )
    assert result.counts["orders"]["created"] == 50
    assert count(Order) == 0 and count(Customer) == 0 and count(Event) == 0


def test_cursor_commits_with_its_rows(workspace):
    conn = Connection(
        workspace_id=workspace.id, platform="fake", external_id="s1", bound_key="s1", name="s"
    )
    db.session.add(conn)
    db.session.commit()
    ingest.apply(
        db.session,
        workspace.id,
        [order("A")],
        cursor=CursorUpdate(conn.id, "orders", {"bookmark": "2026-01-01"}),
    )
    assert db.session.scalar(select(Cursor.state)) == {"bookmark": "2026-01-01"}


def test_h7_deletions_and_product_upserts(workspace):
    ingest.apply(
        db.session, workspace.id, [order("A"), ProductRecord("fake", "P0", "Tea", D("9.90"))]
    )
    assert db.session.scalar(select(Product.price).where(Product.external_id == "P0")) == D("9.90")
    ingest.apply(
        db.session,
        workspace.id,
        [DeletionRecord("fake", "order", "A"), DeletionRecord("fake", "product", "P0")],
    )
    assert count(Order) == 0 and count(OrderLine) == 0 and count(Event) == 0
    assert count(Product) == 1  # P1 stays


def test_h7_many_deletions_in_one_batch_are_counted_one_by_one(workspace):
    """Deletions are applied set-based: several orders and products in one batch, a
    deletion repeated and one of something never stored are counted as one after the other
    would be, and only the named orders' lines, events and deals go."""
    orders = [order(f"O{i}") for i in range(5)]
    products = [ProductRecord("fake", f"Q{i}", "Tea", D("1.00")) for i in range(3)]
    ingest.apply(db.session, workspace.id, [*orders, *products])
    kept_lines = count(OrderLine) // 5
    result = ingest.apply(
        db.session,
        workspace.id,
        [
            *(DeletionRecord("fake", "order", f"O{i}") for i in (0, 1, 3)),
            DeletionRecord("fake", "order", "O1"),  # again: nothing left to delete
            DeletionRecord("fake", "order", "never"),
            DeletionRecord("other", "order", "O2"),  # another source's O2: not this one
            DeletionRecord("fake", "product", "Q1"),
        ],
    )
    assert result.counts["orders"] == {"deleted": 3, "delete_missing": 3}
    assert result.counts["products"] == {"deleted": 1}
    remaining = set(db.session.scalars(select(Order.external_id)))
    assert remaining == {"O2", "O4"}
    assert count(OrderLine) == 2 * kept_lines
    assert {e.order_id for e in db.session.scalars(select(Event))} <= set(
        db.session.scalars(select(Order.id))
    )
    assert set(db.session.scalars(select(Product.external_id))) >= {"Q0", "Q2"}
    assert "Q1" not in set(db.session.scalars(select(Product.external_id)))


def test_line_removed_from_snapshot_is_removed(workspace):
    ingest.apply(db.session, workspace.id, [order("A", lines=3)])
    ingest.apply(db.session, workspace.id, [order("A", lines=2, version=2)])
    assert count(OrderLine) == 2


def test_customer_records_update_and_tag(workspace):
    person = CustomerRecord(identities=[("email", "Li@Shop.cn")], name="Li", tags=["vip"])
    r1 = ingest.apply(db.session, workspace.id, [person], options=IngestOptions(tags=["import"]))
    assert r1.counts["customers"] == {"created": 1}
    person2 = CustomerRecord(identities=[("email", "li@shop.cn")], name="Li Lei")
    r2 = ingest.apply(db.session, workspace.id, [person2])
    assert r2.counts["customers"] == {"updated": 1}
    assert db.session.scalar(select(Customer.name)) == "Li Lei"
    from hub.models import CustomerTag, Tag

    names = set(db.session.scalars(select(Tag.name).join(CustomerTag)))
    assert names == {"vip", "import"}


def test_unversioned_snapshot_replay_is_noop_and_line_change_is_an_update(workspace):
    """Spreadsheet sources carry no version: a content digest tells replay from change."""
    first = order("A")
    first.updated_at = first.version = None
    ingest.apply(db.session, workspace.id, [first])
    again = order("A")
    again.updated_at = again.version = None
    assert ingest.apply(db.session, workspace.id, [again]).counts["orders"] == {"unchanged": 1}
    again.lines[0].name = "Renamed tea"
    assert ingest.apply(db.session, workspace.id, [again]).counts["orders"] == {"updated": 1}
    names = set(db.session.scalars(select(OrderLine.name)))
    assert "Renamed tea" in names


def test_w7_create_only_products_keep_what_the_hub_has(workspace):
    """ProductRecord.keep_existing creates a product the hub lacks and leaves one it has
    untouched, even beside a full record of the same product in one batch; a product record
    is written before the orders of its batch, so an order line names it, not a bare copy."""
    first = order("A")
    made = ProductRecord("fake", first.lines[0].product_external_id, "Tea", D("9.90"), "on_sale")
    made.keep_existing = True
    ingest.apply(db.session, workspace.id, [first, made])
    row = db.session.execute(
        select(Product.name, Product.price, Product.status).where(
            Product.external_id == made.external_id
        )
    ).one()
    assert tuple(row) == ("Tea", D("9.90"), "on_sale")  # created from the record, not the line
    again = ProductRecord("fake", made.external_id, "Green tea", D("12.00"), "off_shelf")
    again.keep_existing = True
    result = ingest.apply(db.session, workspace.id, [again])
    assert result.counts["products"] == {"kept": 1}
    named = select(Product.name).where(Product.external_id == made.external_id)
    assert db.session.scalar(named) == "Tea"
    full = ProductRecord("fake", made.external_id, "Green tea", D("12.00"), "off_shelf")
    ingest.apply(db.session, workspace.id, [full, again])  # the full record wins its batch
    assert db.session.scalar(named) == "Green tea"


def test_w6_take_closed_stores_a_first_seen_cancelled_order_without_event(workspace):
    """Y7 skips an order first seen closed; a record with ``take_closed`` (a mini shop's
    cancelled order, W6) is stored cancelled with paid amount 0 and no event, and a stored
    order closed later still records its cancel event with the amount it had paid."""
    skipped = order("Y", status="closed")
    taken = order("W", status="closed")
    taken.take_closed = True
    result = ingest.apply(db.session, workspace.id, [skipped, taken])
    assert result.counts["orders"].get("created") == 1
    row = db.session.execute(select(Order.external_id, Order.status, Order.amount_paid)).one()
    assert tuple(row) == ("W", "closed", D("0.00"))
    assert count(Event) == 0
    paid = order("P", status="paid")
    paid.take_closed = True
    ingest.apply(db.session, workspace.id, [paid])
    closed = order("P", status="closed", version=2)
    closed.take_closed = True
    ingest.apply(db.session, workspace.id, [closed])
    assert events("P") == ["cancel", "purchase"]
    cancel = select(Event.amount).where(Event.type == "cancel")
    assert db.session.scalar(cancel) == D("100.00")
    assert db.session.scalar(select(Order.amount_paid).where(Order.external_id == "P")) == 0
