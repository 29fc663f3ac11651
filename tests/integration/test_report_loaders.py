"""Loaders: the core read back in chunks, scoped to one workspace, with the documented types."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import func, select

from hub.analytics import AnalyticsError, load_events, load_lines, load_transactions, sql
from hub.extensions import db
from hub.models import Event, Order, OrderLine
from tests.support.sample_shop import load_sample_shop

LOADERS = {"tx": load_transactions, "lines": load_lines, "events": load_events}


@pytest.fixture
def shop(app, workspace, other_workspace):
    load_sample_shop(db.session, workspace.id, orders=250, customers=80, seed=11)
    load_sample_shop(db.session, other_workspace.id, orders=40, customers=10, seed=12)
    return workspace


def test_a4_load_transactions_matches_the_orders_table(shop) -> None:
    tx = load_transactions(shop)
    orders = db.session.scalars(select(Order).where(Order.workspace_id == shop.id)).all()
    assert len(tx) == len(orders)
    assert str(tx["ordered_at"].dt.tz) == "UTC"
    by_id = {o.id: o for o in orders}
    for row in tx.itertuples():
        order = by_id[row.order_id]
        assert Decimal(str(row.amount)) == (order.amount_paid or Decimal("0"))
        assert Decimal(str(row.refunded)) == order.refunded_amount
        assert row.ordered_at == pd.Timestamp(order.ordered_at)
        assert row.store == order.store_name
    assert tx["refunded"].sum() > 0  # the shop has refunds, and amount is net of them


def test_a4_loaders_filter_by_time_and_source(shop) -> None:
    got = load_transactions("acme", "2024-02-01", "2024-03-01", ["youzan", "tmall"])
    lo, hi = pd.Timestamp("2024-02-01", tz="UTC"), pd.Timestamp("2024-03-01", tz="UTC")
    expected = db.session.scalar(
        select(func.count()).where(
            Order.workspace_id == shop.id,
            Order.ordered_at >= lo.to_pydatetime(),
            Order.ordered_at < hi.to_pydatetime(),
            Order.source.in_(["youzan", "tmall"]),
        )
    )
    assert len(got) == expected > 0
    assert set(got["source"]) == {"youzan", "tmall"}
    assert got["ordered_at"].between(lo, hi, inclusive="left").all()
    shanghai = load_transactions(shop, tz="Asia/Shanghai")
    assert str(shanghai["ordered_at"].dt.tz) == "Asia/Shanghai"


def test_a4_loaders_read_in_chunks_with_the_same_result(shop, monkeypatch) -> None:
    whole = {name: load(shop) for name, load in LOADERS.items()}
    monkeypatch.setattr(sql, "CHUNK", 7)
    for name, load in LOADERS.items():
        pd.testing.assert_frame_equal(whole[name], load(shop), check_dtype=False, obj=name)
    lines = whole["lines"]
    count = db.session.scalar(
        select(func.count()).select_from(OrderLine).where(OrderLine.workspace_id == shop.id)
    )
    assert len(lines) == count
    assert lines["paid"].dtype == float and lines["qty"].dtype == int


def test_a4_load_events_types_and_workspace_scope(shop, other_workspace) -> None:
    events = load_events(shop)
    mine = db.session.scalar(select(func.count()).where(Event.workspace_id == shop.id))
    assert len(events) == mine
    assert set(events["type"]) == {"purchase", "first_purchase", "return", "cancel"}
    returns = load_events(shop, types=["return"], properties=True)
    assert set(returns["type"]) == {"return"}
    assert all("refund_id" in p for p in returns["properties"])
    theirs = load_events(other_workspace)
    assert set(theirs["event_id"]).isdisjoint(events["event_id"])


def test_a4_unknown_workspace_is_named(app) -> None:
    with pytest.raises(AnalyticsError, match="workspace 'nope' not found"):
        load_transactions("nope")
