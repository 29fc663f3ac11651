"""Deal stages (H5, H6, X3): the issue's rules, first match wins, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.core.plan.stages import (
    PENDING_WINDOW,
    STAGES,
    checkout_stage,
    deal_properties,
    forward,
    order_stage,
    shopify_stage,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_h5_cancelled_at_set_is_cancelled_whatever_else():
    props = {"cancelled_at": "2026-05-01T00:00:00Z", "financial_status": "paid",
             "fulfillment_status": "fulfilled"}  # fmt: skip
    assert shopify_stage(props) == "cancelled"


@pytest.mark.parametrize("financial", ["refunded", "voided"])
def test_h5_refunded_or_voided_is_cancelled(financial):
    assert shopify_stage({"financial_status": financial, "fulfillment_status": "fulfilled"}) == (
        "cancelled"
    )


@pytest.mark.parametrize("financial", ["paid", "partially_refunded", "pending", None])
def test_h5_fulfilled_is_shipped_also_when_partially_refunded(financial):
    assert shopify_stage({"financial_status": financial, "fulfillment_status": "fulfilled"}) == (
        "shipped"
    )


@pytest.mark.parametrize("fulfillment", [None, "partial", "restocked"])
@pytest.mark.parametrize("financial", ["paid", "partially_refunded"])
def test_h5_paid_or_partially_refunded_is_processed_also_when_partially_fulfilled(
    financial, fulfillment
):
    assert shopify_stage({"financial_status": financial, "fulfillment_status": fulfillment}) == (
        "processed"
    )


@pytest.mark.parametrize("financial", ["pending", "authorized", "partially_paid"])
def test_h5_pending_authorized_partially_paid_is_checkout_completed(financial):
    assert shopify_stage({"financial_status": financial, "fulfillment_status": "partial"}) == (
        "checkout_completed"
    )


def test_h5_no_rule_matches_falls_back_to_the_normalised_status():
    assert shopify_stage({"financial_status": "expired"}) is None
    assert order_stage("closed", {"financial_status": "expired"}) == "cancelled"
    assert order_stage("paid", {"financial_status": "paid"}) == "processed"


@pytest.mark.parametrize(
    ("status", "stage"),
    [("pending", "checkout_completed"), ("paid", "processed"), ("shipped", "shipped"),
     ("completed", "shipped"), ("closed", "cancelled")],
)  # fmt: skip
def test_h5_other_sources_take_the_cross_platform_analogue(status, stage):
    assert order_stage(status, {"buyer_message": "x"}) == stage
    assert order_stage(status, {}) == stage


def test_h6_checkout_without_completed_at_is_abandoned_pending_while_recent():
    assert checkout_stage(None, NOW - PENDING_WINDOW - timedelta(seconds=1), NOW) == (
        "checkout_abandoned"
    )
    assert checkout_stage(None, NOW - timedelta(minutes=59), NOW) == "checkout_pending"
    assert checkout_stage(NOW, NOW - timedelta(days=3), NOW) == "checkout_completed"


def test_x3_forward_only_along_the_pipeline_cancelled_terminal():
    assert forward(None, "processed") == "processed"
    assert forward("checkout_abandoned", "processed") == "processed"
    assert forward("shipped", "processed") == "shipped"  # never back
    assert forward("shipped", "cancelled") == "cancelled"  # refunded after shipping
    for stage in STAGES:
        assert forward("cancelled", stage) == "cancelled"
    assert forward("checkout_pending", "checkout_abandoned") == "checkout_abandoned"
    assert forward("checkout_abandoned", "checkout_pending") == "checkout_pending"
    assert forward("checkout_completed", "checkout_abandoned") == "checkout_completed"


def test_h8_deal_properties_keep_only_the_h8_keys():
    props = {"financial_status": "paid", "total_price": "10.00", "line_items": [], "email": "x"}
    assert deal_properties(props) == {"financial_status": "paid", "total_price": "10.00"}
