"""Issue 22 points 2 and 3 in the core: a shop buyer's contact mobile becomes a matchable
identity (I3, the blocklist and the identity limits apply; a phone another customer holds is
suggested, never merged), and the first purchase (Y10) is recorded once per customer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hub.core import ingest
from hub.core.records import CustomerRecord
from hub.extensions import db
from hub.models import Customer, Event, EventSetting, Identity, Order
from tests.support.orders import T0, order


def buyer_order(ext, yz, mobile, *, at=T0, status="completed", paid="100.00"):
    rec = order(ext, identities=[("yz_open_id", yz)], at=at, status=status, paid=paid)
    rec.buyer.mobile = mobile
    return rec


def live_customers() -> int:
    stmt = select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None))
    return db.session.scalar(stmt)


def owner(type_, value):
    return db.session.scalar(
        select(Identity.customer_id).where(Identity.type == type_, Identity.value == value)
    )


# --- 2. the buyer's contact mobile ------------------------------------------------------------


def test_a_customer_import_row_with_a_buyers_consignee_mobile_updates_that_buyer(workspace):
    ingest.apply(db.session, workspace.id, [buyer_order("Y1", "yz-li", "+86 139-1234-5678")])
    buyer = owner("yz_open_id", "yz-li")
    assert owner("mobile", "13912345678") == buyer

    row = CustomerRecord(identities=[("mobile", "13912345678")], email="li@shop.cn")
    result = ingest.apply(db.session, workspace.id, [row])

    assert result.counts["customers"] == {"updated": 1}
    assert live_customers() == 1
    assert db.session.get(Customer, buyer).email == "li@shop.cn"


def test_a_later_sync_with_that_mobile_resolves_to_the_same_customer(workspace):
    ingest.apply(db.session, workspace.id, [buyer_order("Y1", "yz-li", "139 1234 5678")])
    tmall = order("T1", identities=[("mobile", "13912345678"), ("tmall_buyer", "li")])
    ingest.apply(db.session, workspace.id, [tmall])
    assert live_customers() == 1
    orders = db.session.scalars(select(Order.customer_id)).all()
    assert len(set(orders)) == 1


def test_a_placeholder_consignee_mobile_is_never_an_identity(workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [buyer_order("Y1", "yz-a", "13800000000"), buyer_order("Y2", "yz-b", "13800000000")],
    )
    assert owner("mobile", "13800000000") is None
    assert live_customers() == 2


def test_two_buyers_sharing_a_phone_are_not_merged_but_suggested(workspace):
    result = ingest.apply(
        db.session,
        workspace.id,
        [buyer_order("Y1", "yz-mum", "13912345678"), buyer_order("Y2", "yz-son", "13912345678")],
    )
    assert live_customers() == 2
    mum = owner("yz_open_id", "yz-mum")
    assert owner("mobile", "13912345678") == mum
    assert result.conflicts == []
    [suggestion] = result.suggestions
    assert suggestion["kind"] == "possible_duplicate" and suggestion["record"] == "Y2"
    # the same two again: nothing new is suggested, nobody is merged
    again = ingest.apply(db.session, workspace.id, [buyer_order("Y3", "yz-son", "13912345678")])
    assert again.suggestions == [] and live_customers() == 2


def test_a_buyer_who_holds_a_mobile_does_not_collect_consignee_phones(workspace):
    first = order("Y1", identities=[("yz_open_id", "yz-li"), ("mobile", "13911112222")])
    gift = buyer_order("Y2", "yz-li", "13933334444")  # sent to a friend
    ingest.apply(db.session, workspace.id, [first, gift])
    li = owner("yz_open_id", "yz-li")
    mobiles = db.session.scalars(select(Identity.value).where(Identity.type == "mobile")).all()
    assert mobiles == ["13911112222"] and owner("mobile", "13911112222") == li


# --- 3. the first purchase ----------------------------------------------------------------------


def settings(ws: int) -> None:
    db.session.add_all(
        [
            EventSetting(
                workspace_id=ws, event_type="purchase", advance_to_stage="customer", score_delta=10
            ),
            EventSetting(workspace_id=ws, event_type="first_purchase", score_delta=5),
        ]
    )
    db.session.commit()


def firsts() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Event.customer_id, Order.external_id)
        .join(Order, Order.id == Event.order_id)
        .where(Event.type == "first_purchase")
        .order_by(Event.customer_id)
    )
    return [tuple(r) for r in rows]


def test_y10_a_new_buyer_gets_purchase_and_first_purchase(workspace):
    settings(workspace.id)
    result = ingest.apply(db.session, workspace.id, [order("A1", identities=[("yz_open_id", "a")])])
    assert result.counts["events"] == {"purchase": 1, "first_purchase": 1}
    customer = db.session.get(Customer, owner("yz_open_id", "a"))
    assert (customer.stage, customer.activity_score) == ("customer", 15)


def test_y10_first_purchase_once_per_customer_and_not_on_replay(workspace):
    settings(workspace.id)
    ids = [("yz_open_id", "a")]
    batch = [order("A1", identities=ids, at=T0), order("A2", identities=ids, at=T0 + timedelta(1))]
    ingest.apply(db.session, workspace.id, batch)
    ingest.apply(db.session, workspace.id, batch)  # a replayed sync
    ingest.apply(db.session, workspace.id, [order("A3", identities=ids, at=T0 + timedelta(2))])
    cid = owner("yz_open_id", "a")
    assert firsts() == [(cid, "A1")]
    assert db.session.get(Customer, cid).activity_score == 3 * 10 + 5


def test_y10_an_older_order_arriving_later_becomes_the_first_purchase(workspace):
    settings(workspace.id)
    ids = [("yz_open_id", "a")]
    ingest.apply(db.session, workspace.id, [order("NEW", identities=ids, at=T0 + timedelta(9))])
    ingest.apply(db.session, workspace.id, [order("OLD", identities=ids, at=T0)])
    cid = owner("yz_open_id", "a")
    assert firsts() == [(cid, "OLD")]
    first = db.session.scalar(select(Event).where(Event.type == "first_purchase"))
    assert first.occurred_at == T0
    assert db.session.get(Customer, cid).activity_score == 2 * 10 + 5  # counted once


def test_y10_a_customer_met_before_its_orders_gets_the_batchs_earliest(workspace):
    # a shop's customers read before its orders: no first purchase yet, only this batch's
    settings(workspace.id)
    ids = [("yz_open_id", "a")]
    ingest.apply(db.session, workspace.id, [CustomerRecord(identities=ids, name="a")])
    batch = [order("B2", identities=ids, at=T0 + timedelta(2)), order("B1", identities=ids, at=T0)]
    ingest.apply(db.session, workspace.id, batch)
    cid = owner("yz_open_id", "a")
    assert firsts() == [(cid, "B1")]
    first = db.session.scalar(select(Event).where(Event.type == "first_purchase"))
    assert (first.occurred_at, first.amount) == (T0, order("B1", identities=ids).amount_paid)


def test_y10_a_purchase_stored_before_first_purchases_existed_stays_the_first(workspace):
    # bought before first purchases were recorded: the stored purchase, older than the batch's,
    # is copied (order, time, amount, source, properties), not the batch's own
    settings(workspace.id)
    ids = [("yz_open_id", "a")]
    ingest.apply(db.session, workspace.id, [order("OLD", identities=ids, at=T0, paid="70.00")])
    db.session.execute(Event.__table__.delete().where(Event.type == "first_purchase"))
    db.session.commit()
    old = db.session.scalar(select(Event).where(Event.type == "purchase"))
    later = [order("NEW", identities=ids, at=T0 + timedelta(5), paid="30.00")]
    ingest.apply(db.session, workspace.id, later)
    cid = owner("yz_open_id", "a")
    assert firsts() == [(cid, "OLD")]
    first = db.session.scalar(select(Event).where(Event.type == "first_purchase"))
    copied = ("order_id", "occurred_at", "amount", "source", "properties")
    assert [getattr(first, k) for k in copied] == [getattr(old, k) for k in copied]


def test_y10_a_closed_or_unpaid_order_is_no_first_purchase(workspace):
    settings(workspace.id)
    ids = [("yz_open_id", "a")]
    ingest.apply(db.session, workspace.id, [order("A1", identities=ids, status="pending")])
    assert firsts() == []


def test_existing_buyers_stored_mobiles_become_identities_by_migration(app):
    """Upgrading a database of issue 21 (its head 4823504394dc): each live customer's stored
    mobile becomes its identity, except placeholders, numbers already held, and the younger of
    two customers sharing one (not merged)."""
    import flask_migrate
    from sqlalchemy import inspect, text

    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.drop_all()
    assert inspect(db.engine).get_table_names() == []
    flask_migrate.upgrade(revision="4823504394dc")
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO workspaces (id, name, slug, created_at) VALUES (1, 'a', 'a', :t)"),
            {"t": T0.replace(tzinfo=None)},
        )
        mobiles = ["13912345678", "13800000000", "13912345678", "13711112222", None, "13755556666"]
        for cid, mobile in enumerate(mobiles, 1):
            conn.execute(
                text(
                    "INSERT INTO customers (id, workspace_id, mobile, properties, activity_score,"
                    " created_at, updated_at) VALUES (:id, 1, :m, '{}', 0, :t, :t)"
                ),
                {"id": cid, "m": mobile, "t": T0.replace(tzinfo=None)},
            )
        conn.execute(
            text(
                "INSERT INTO identities (workspace_id, customer_id, type, value, created_at)"
                " VALUES (1, 6, 'mobile', '13711112222', :t)"
            ),
            {"t": T0.replace(tzinfo=None)},
        )
    flask_migrate.upgrade()
    held = db.session.execute(
        select(Identity.customer_id, Identity.value).where(Identity.type == "mobile")
    ).all()
    # 1 gets its number (3 shares it: younger); 2 is a placeholder; 4's is already 6's;
    # 6 holds a mobile already, so its own stored one is not added
    assert sorted(tuple(r) for r in held) == [(1, "13912345678"), (6, "13711112222")]
    flask_migrate.downgrade(revision="4823504394dc")
    assert db.session.scalar(select(func.count()).select_from(Identity)) == 1


# --- 3. apply the event settings to existing customers --------------------------------------


def test_y10_recompute_existing_customers_from_their_events_set_based(workspace):
    """Long-standing buyers (recorded before settings, and before first purchases were)
    keep stage "—" and score 0; recomputing gives what their events are worth, in a fixed
    number of statements whatever the number of customers, and moves stages forward only."""
    from sqlalchemy import delete
    from sqlalchemy import event as sa_event

    from hub.core.store.settings import customers_with_events, recompute

    batch = [
        order(f"B{i}", identities=[("yz_open_id", f"b{i % 30}")], at=T0 + timedelta(hours=i))
        for i in range(60)
    ]
    batch.append(order("B0", identities=[("yz_open_id", "b0")], version=2, refunds=[("R", "5.00")]))
    ingest.apply(db.session, workspace.id, batch[:60])
    ingest.apply(db.session, workspace.id, batch[60:])
    db.session.execute(delete(Event).where(Event.type == "first_purchase"))  # before 22.3
    b0, b1, b2 = (owner("yz_open_id", f"b{i}") for i in range(3))
    db.session.get(Customer, b1).stage = "loyal"  # further than purchases reach: kept
    db.session.get(Customer, b2).stage = "lead"
    db.session.commit()
    settings(workspace.id)
    db.session.add(EventSetting(workspace_id=workspace.id, event_type="return", score_delta=-4))
    db.session.commit()
    assert customers_with_events(db.session, workspace.id) == 30

    statements: list[str] = []
    listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
    sa_event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert recompute(db.session, workspace.id) == 30
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", listener)
    db.session.commit()
    assert len(statements) <= 3  # set-based: not one per customer

    def state(cid):
        c = db.session.get(Customer, cid)
        db.session.refresh(c)
        return c.stage, c.activity_score

    assert state(b0) == ("customer", 2 * 10 + 5 - 4)
    assert state(b1) == ("loyal", 2 * 10 + 5)
    assert state(b2) == ("customer", 2 * 10 + 5)
    assert len(firsts()) == 30
    assert dict(firsts())[b0] == "B0"  # the earliest purchase
    recompute(db.session, workspace.id)  # again: the same
    db.session.commit()
    assert state(b0) == ("customer", 21) and len(firsts()) == 30


def test_y10_recompute_counts_a_first_purchase_once_after_a_merge(workspace):
    from hub.core.merge import merge
    from hub.core.store.settings import recompute

    settings(workspace.id)
    ingest.apply(
        db.session,
        workspace.id,
        [
            order("A1", identities=[("yz_open_id", "a")]),
            order("B1", identities=[("email", "b@x.cn")]),
        ],
    )
    a, b = owner("yz_open_id", "a"), owner("email", "b@x.cn")
    merge(db.session, workspace.id, a, b, reason="same")
    recompute(db.session, workspace.id)
    db.session.commit()
    assert db.session.get(Customer, a).activity_score == 2 * 10 + 5


def test_y10_a_buyer_from_before_first_purchases_gets_it_at_the_oldest_order(workspace):
    from sqlalchemy import delete

    ids = [("yz_open_id", "a")]
    ingest.apply(db.session, workspace.id, [order("OLD", identities=ids, at=T0)])
    db.session.execute(delete(Event).where(Event.type == "first_purchase"))  # before 22.3
    db.session.commit()
    settings(workspace.id)
    ingest.apply(db.session, workspace.id, [order("NEW", identities=ids, at=T0 + timedelta(3))])
    cid = owner("yz_open_id", "a")
    assert firsts() == [(cid, "OLD")]
    assert db.session.get(Customer, cid).activity_score == 10 + 5


def test_y10_a_survivor_with_a_merged_first_purchase_gets_no_second(workspace):
    from hub.core.merge import merge

    settings(workspace.id)
    ingest.apply(
        db.session,
        workspace.id,
        [
            CustomerRecord(identities=[("yz_open_id", "a")]),
            order("B1", identities=[("email", "b@x.cn")], at=T0),
        ],
    )
    a, b = owner("yz_open_id", "a"), owner("email", "b@x.cn")
    merge(db.session, workspace.id, a, b, reason="same")
    ingest.apply(
        db.session,
        workspace.id,
        [order("A1", identities=[("yz_open_id", "a")], at=T0 + timedelta(1))],
    )
    assert firsts() == [(a, "B1")]
