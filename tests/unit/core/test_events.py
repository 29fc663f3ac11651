"""Y7 event derivation and X3 forward-only state, as a pure function."""

from decimal import Decimal

from hub.core.plan.orders import StoredOrder, plan_order
from hub.core.plan.settings import advance_stage
from tests.support.orders import order

D = Decimal


def stored(status: str, version: int = 1, paid: str = "100.00", refunds=()) -> StoredOrder:
    refunded = sum((D("10.00") for _ in refunds), D("0.00"))
    return StoredOrder(status, version, D(paid) - refunded, refunded, D("0.00"), frozenset(refunds))


def test_y7_first_seen_success_stores_and_records_purchase():
    plan = plan_order(None, order(status="completed"))
    assert plan.action == "create"
    assert [e.type for e in plan.events] == ["purchase"]
    assert plan.events[0].amount == D("100.00")


def test_y7_first_seen_pending_shipment_records_purchase():
    for status in ("paid", "shipped"):
        plan = plan_order(None, order(status=status))
        assert plan.action == "create" and [e.type for e in plan.events] == ["purchase"]


def test_y7_first_seen_closed_is_not_stored():
    plan = plan_order(None, order(status="closed"))
    assert plan.action == "skip" and plan.events == [] and "closed" in plan.reason


def test_y7_success_with_refund_records_return_and_reduces_paid():
    plan = plan_order(stored("completed"), order(version=2, refunds=[("R1", "30.00")]))
    assert [e.type for e in plan.events] == ["purchase", "return"]
    assert plan.amount_paid == D("70.00") and plan.refunded == D("30.00")
    assert plan.events[1].amount == D("30.00")


def test_y7_refund_seen_twice_counts_once():
    plan = plan_order(
        stored("completed", refunds=["R1"]), order(version=2, refunds=[("R1", "10.00")])
    )
    assert [e.type for e in plan.events] == ["purchase"]
    assert plan.refunded == D("10.00")
    assert plan.action == "update"


def test_y7_closed_after_stored_records_cancel_and_reduces_paid():
    plan = plan_order(stored("paid"), order(status="closed", version=2))
    assert [e.type for e in plan.events] == ["cancel"]
    assert plan.events[0].amount == D("100.00")
    assert plan.amount_paid == D("0.00") and plan.cancelled == D("100.00")


def test_y7_closed_after_partial_refund_cancels_the_rest():
    plan = plan_order(
        stored("completed", refunds=["R1"]),
        order(status="closed", version=3, refunds=[("R1", "10.00")]),
    )
    cancel = [e for e in plan.events if e.type == "cancel"][0]
    assert cancel.amount == D("90.00") and plan.amount_paid == D("0.00")


def test_x3_older_snapshot_changes_nothing():
    plan = plan_order(stored("completed", version=5), order(status="paid", version=4))
    assert plan.action == "unchanged" and plan.events == []


def test_x3_same_version_never_moves_status_back():
    plan = plan_order(stored("shipped", version=5), order(status="paid", version=5))
    assert plan.status == "shipped"


def test_replay_of_same_snapshot_is_unchanged():
    plan = plan_order(stored("completed", version=1), order(status="completed", version=1))
    assert plan.action == "unchanged"


def test_y10_stages_only_advance():
    assert advance_stage(None, "customer") == "customer"
    assert advance_stage("loyal", "customer") == "loyal"
    assert advance_stage("lead", "customer") == "customer"
    assert advance_stage("lead", "no-such-stage") == "lead"
