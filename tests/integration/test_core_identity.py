"""X4 identity resolution: priority, blocklist, limits, conflicts, merge ledger and undo."""

import pytest
from sqlalchemy import func, select

from hub.core import ingest
from hub.core.errors import Conflict
from hub.core.ingest import IngestOptions
from hub.core.merge import merge, undo_merge
from hub.core.records import CustomerRecord, DeletionRecord
from hub.extensions import db
from hub.models import Customer, CustomerTag, Event, Identity, MergeLedger, Order, Tag
from tests.support.dump import dump
from tests.support.orders import order


def person(*identities, **kw):
    return CustomerRecord(identities=list(identities), **kw)


def customer_of(type_, value):
    return db.session.scalar(
        select(Identity.customer_id).where(Identity.type == type_, Identity.value == value)
    )


def test_x4_highest_priority_identity_wins(workspace):
    ingest.apply(
        db.session, workspace.id, [person(("yz_open_id", "yzA")), person(("wx_openid", "oB"))]
    )
    ingest.apply(db.session, workspace.id, [person(("yz_open_id", "yzA"), ("wx_openid", "oB"))])
    # matched by the first identity; the second belongs to someone else: reported, not merged
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
    assert customer_of("wx_openid", "oB") != customer_of("yz_open_id", "yzA")


def test_x4_row_whose_identities_point_at_two_customers_is_a_conflict(workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [person(("mobile", "13912345678")), person(("email", "li@shop.cn"))],
    )
    result = ingest.apply(
        db.session, workspace.id, [person(("mobile", "13912345678"), ("email", "li@shop.cn"))]
    )
    assert [c["kind"] for c in result.conflicts] == ["conflict"]
    assert result.conflicts[0]["type"] == "email"
    failed = ingest.apply(
        db.session,
        workspace.id,
        [person(("mobile", "13912345678"), ("email", "li@shop.cn"))],
        options=IngestOptions(identity_conflict="fail"),
    )
    assert "belongs to another customer" in failed.failures[0].reason


def test_x4_blocklisted_values_never_link_customers(workspace):
    result = ingest.apply(
        db.session,
        workspace.id,
        [
            order("A", identities=[("yz_open_id", "yz1"), ("mobile", "13800000000")]),
            order("B", identities=[("yz_open_id", "yz2"), ("mobile", "13800000000")]),
        ],
    )
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
    assert {c["kind"] for c in result.conflicts} == {"blocked"}
    assert customer_of("mobile", "13800000000") is None


def test_x4_record_with_only_junk_identities_fails_with_reason(workspace):
    result = ingest.apply(db.session, workspace.id, [person(("email", "noreply@shop.cn"))])
    assert "shared or example mailbox" in result.failures[0].reason
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_x4_limit_per_identity_type(workspace):
    records = [person(("yz_open_id", "yz1"), ("mobile", f"1391234560{i}")) for i in range(5)]
    result = ingest.apply(db.session, workspace.id, records)
    held = db.session.scalar(
        select(func.count()).select_from(Identity).where(Identity.type == "mobile")
    )
    assert held == 3  # IDENTITY_LIMITS["mobile"]
    assert [c["kind"] for c in result.conflicts] == ["limit", "limit"]


def test_x4_limit_holds_across_batches_for_a_returning_customer(workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [person(("yz_open_id", "yz1"), *[("mobile", f"1391234560{i}") for i in range(3)])],
    )
    # a later batch: the customer is found by yz_open_id and brings a fourth mobile
    result = ingest.apply(
        db.session, workspace.id, [person(("yz_open_id", "yz1"), ("mobile", "13912345609"))]
    )
    assert [c["kind"] for c in result.conflicts] == ["limit"]
    assert customer_of("mobile", "13912345609") is None


def test_x4_limit_is_checked_for_a_customer_the_prefetch_did_not_foresee(workspace):
    from hub.core.plan.identity import Resolver
    from hub.core.store.lookups import session_lookups

    ingest.apply(
        db.session,
        workspace.id,
        [person(("yz_open_id", "yz1"), *[("mobile", f"1391234560{i}") for i in range(3)])],
    )
    resolver = Resolver(workspace.id, session_lookups(db.session, workspace.id))
    resolver.prefetch([[("yz_open_id", "yz1")]])  # nothing new: no identity counts loaded
    res = resolver.resolve(person(("yz_open_id", "yz1"), ("mobile", "13912345609")))
    assert res.attach == []
    assert [c["kind"] for c in res.conflicts] == ["limit"]


def test_x4_merge_then_undo_restores_exactly(workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [
            order("A", identities=[("yz_open_id", "yz1")]),
            order("B", identities=[("wx_unionid", "u2")]),
            person(("wx_unionid", "u2"), tags=["vip"]),
            person(("yz_open_id", "yz1"), tags=["vip", "tea"]),
        ],
    )
    keep, gone = customer_of("yz_open_id", "yz1"), customer_of("wx_unionid", "u2")
    before = dump(db.session, ignore=("updated_at",))
    entry = merge(db.session, workspace.id, keep, gone, reason="same person", actor="admin")
    assert customer_of("wx_unionid", "u2") == keep
    assert set(db.session.scalars(select(Order.customer_id))) == {keep}
    assert set(db.session.scalars(select(Event.customer_id))) == {keep}
    assert db.session.get(Customer, gone).merged_into_id == keep
    # later orders of the merged buyer land on the kept customer
    ingest.apply(db.session, workspace.id, [order("C", identities=[("wx_unionid", "u2")])])
    assert db.session.scalar(select(Order.customer_id).where(Order.external_id == "C")) == keep
    ingest.apply(db.session, workspace.id, [DeletionRecord("fake", "order", "C")])
    undo_merge(db.session, workspace.id, entry.id)
    after = dump(db.session, ignore=("updated_at",))
    for table in ("customers", "identities", "orders", "events", "customer_tags"):
        assert after[table] == before[table], table
    assert db.session.get(MergeLedger, entry.id).undone_at is not None
    with pytest.raises(Conflict):
        undo_merge(db.session, workspace.id, entry.id)


def test_x4_merge_refused_over_limit(workspace):
    ingest.apply(
        db.session, workspace.id, [person(("wx_unionid", "u1")), person(("wx_unionid", "u2"))]
    )
    with pytest.raises(Conflict, match="limit"):
        merge(
            db.session,
            workspace.id,
            customer_of("wx_unionid", "u1"),
            customer_of("wx_unionid", "u2"),
            reason="test",
        )


def test_identities_are_scoped_to_the_workspace(workspace, other_workspace):
    ingest.apply(db.session, workspace.id, [person(("yz_open_id", "yz1"))])
    ingest.apply(db.session, other_workspace.id, [person(("yz_open_id", "yz1"))])
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
    with pytest.raises(Exception, match="not found"):
        merge(
            db.session,
            other_workspace.id,
            *db.session.scalars(select(Customer.id)),
            reason="cross-tenant",
        )
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 0
    assert db.session.scalar(select(func.count()).select_from(CustomerTag)) == 0
