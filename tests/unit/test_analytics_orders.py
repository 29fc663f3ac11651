"""Order, repurchase and return analysis on small hand-computed cases."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from hub.analytics import (
    allocate_refunds,
    aov,
    checkout_recovery,
    cohort_retention,
    new_vs_returning,
    orders_over_time,
    repeat_purchase_rate,
    return_rates,
    returning_customer_rate,
    revenue_by_source,
    time_between_orders,
    top_products,
)


@pytest.fixture
def tx() -> pd.DataFrame:
    rows = [  # order_id, customer, date, amount, source
        (1, 10, "2024-01-05", 100.0, "youzan"),
        (2, 10, "2024-02-10", 50.0, "youzan"),
        (3, 11, "2024-01-20", 30.0, "shopify"),
        (4, 12, "2024-02-01", 20.0, "shopify"),
        (5, 12, "2024-02-03", 40.0, "youzan"),
        (6, 13, "2024-03-01", 60.0, "tmall"),
        (7, None, "2024-03-02", 10.0, "tmall"),  # a guest order
    ]
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount", "source"])
    df["ordered_at"] = pd.to_datetime(df["ordered_at"]).dt.tz_localize("UTC")
    df["customer_id"] = df["customer_id"].astype("Int64")
    return df


def test_a3_orders_over_time_and_aov(tx: pd.DataFrame) -> None:
    monthly = orders_over_time(tx, freq="M")
    assert monthly["orders"].tolist() == [2, 3, 2]
    assert monthly["revenue"].tolist() == [130.0, 110.0, 70.0]
    assert monthly["customers"].tolist() == [2, 2, 1]
    assert monthly["aov"].iloc[0] == 65.0
    assert aov(tx) == pytest.approx(310 / 7)


def test_a3_revenue_by_source(tx: pd.DataFrame) -> None:
    table = revenue_by_source(tx)
    assert table.index.tolist() == ["youzan", "tmall", "shopify"]
    assert table.loc["youzan", "revenue"] == 190.0
    assert table.loc["tmall", "orders"] == 2
    assert table["share"].sum() == pytest.approx(1.0)


def test_a3_repeat_and_returning_customer_rates(tx: pd.DataFrame) -> None:
    assert repeat_purchase_rate(tx) == 0.5  # 10 and 12 of 10, 11, 12, 13
    # February: 10 (ordered in Jan: returning), 12 (two orders in Feb: returning)
    assert returning_customer_rate(tx, "2024-02-01", "2024-03-01") == 1.0
    # January: 10 and 11, both first-time by the end of January
    assert returning_customer_rate(tx, "2024-01-01", "2024-02-01") == 0.0
    # Jan-Mar: 10, 11, 12, 13 -> 10 and 12 returning
    assert returning_customer_rate(tx, "2024-01-01", "2024-04-01") == 0.5


def test_a3_new_vs_returning_per_month(tx: pd.DataFrame) -> None:
    table = new_vs_returning(tx, freq="M")
    assert table["new"].tolist() == [2, 1, 1]  # Jan: 10, 11; Feb: 12; Mar: 13
    assert table["returning"].tolist() == [0, 1, 0]  # Feb: 10 (12's second order is Feb too)
    assert table["returning_revenue"].tolist() == [0.0, 90.0, 0.0]


def test_a4_cohort_retention_and_time_between_orders(tx: pd.DataFrame) -> None:
    table = cohort_retention(tx)
    jan = table.loc[pd.Period("2024-01", "M")]
    assert jan["customers"] == 2
    assert jan[0] == 1.0 and jan[1] == 0.5  # of 10 and 11, only 10 came back in February
    gaps = time_between_orders(tx)
    assert sorted(gaps["days"].tolist()) == [2.0, 36.0]


def test_a3_top_products_by_revenue_and_units() -> None:
    lines = pd.DataFrame(
        {
            "order_id": [1, 1, 2, 3],
            "product": ["tea", "cup", "tea", "pot"],
            "qty": [2, 5, 1, 1],
            "paid": [40.0, 25.0, 20.0, 90.0],
        }
    )
    assert top_products(lines, n=2).index.tolist() == ["pot", "tea"]
    by_units = top_products(lines, by="units")
    assert by_units.index.tolist()[0] == "cup"
    assert by_units.loc["tea", "orders"] == 2


def test_a4_return_rates_value_order_unit_each_labelled() -> None:
    lines = pd.DataFrame(
        {
            "order_id": [1, 1, 2, 3],
            "product": ["tea", "cup", "tea", "pot"],
            "qty": [2, 2, 1, 1],
            "paid": [60.0, 40.0, 50.0, 100.0],
            "order_refunded": [50.0, 50.0, 0.0, 100.0],
        }
    )
    enriched = allocate_refunds(lines)
    assert enriched["returned_value"].tolist() == [30.0, 20.0, 0.0, 100.0]
    assert enriched["returned_qty"].tolist() == [1, 1, 0, 1]
    overall = return_rates(enriched).loc["all"]
    assert overall["value_return_rate"] == pytest.approx(150 / 250)
    assert overall["order_return_rate"] == pytest.approx(2 / 3)
    assert overall["unit_return_rate"] == pytest.approx(3 / 6)
    by = return_rates(enriched, by="product")
    assert by.loc["tea", "order_return_rate"] == 0.5
    assert by.loc["cup", "unit_return_rate"] == 0.5


def test_a3_abandoned_checkouts_and_recovery() -> None:
    t0 = pd.Timestamp("2024-05-01", tz="UTC")
    ev = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3],
            "type": ["checkout_abandoned", "purchase", "checkout_abandoned", "purchase",
                     "checkout_abandoned"],
            "occurred_at": [t0, t0 + timedelta(days=2), t0, t0 + timedelta(days=9), t0],
            "amount": [0.0, 120.0, 0.0, 80.0, 0.0],
        }
    )  # fmt: skip
    got = checkout_recovery(ev, window=timedelta(days=7)).iloc[0]
    assert got["abandoned"] == 3 and got["recovered"] == 1
    assert got["rate"] == pytest.approx(1 / 3)
    assert got["recovered_revenue"] == 120.0
