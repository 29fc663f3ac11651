"""Order analysis: orders and revenue over time, by source, average order value, top products
and abandoned-checkout recovery. Amounts are net of refunds (``amount``)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from hub.analytics.frames import require, wall_clock


def orders_over_time(df: pd.DataFrame, freq: str = "D") -> pd.DataFrame:
    """Per period (index ``period``): orders, revenue, customers (distinct) and aov."""
    require(df, ["ordered_at", "amount"], "transactions")
    period = wall_clock(df["ordered_at"]).dt.to_period(freq).dt.start_time.rename("period")
    grouped = df.groupby(period)
    out = pd.DataFrame({"orders": grouped.size(), "revenue": grouped["amount"].sum()})
    if "customer_id" in df:
        out["customers"] = grouped["customer_id"].nunique()
    out["aov"] = out["revenue"] / out["orders"]
    return out


def aov(df: pd.DataFrame) -> float:
    """Average order value: revenue / orders (NaN without orders)."""
    require(df, ["amount"], "transactions")
    return float(df["amount"].sum() / len(df)) if len(df) else float("nan")


def revenue_by_source(df: pd.DataFrame, by: str = "source") -> pd.DataFrame:
    """Orders, revenue, share of revenue and aov per source (or store, or any column)."""
    require(df, [by, "amount"], "transactions")
    grouped = df.groupby(by, dropna=False)
    out = pd.DataFrame({"orders": grouped.size(), "revenue": grouped["amount"].sum()})
    total = out["revenue"].sum()
    out["share"] = out["revenue"] / total if total else np.nan
    out["aov"] = out["revenue"] / out["orders"]
    return out.sort_values("revenue", ascending=False)


def top_products(
    lines: pd.DataFrame, n: int = 10, by: str = "revenue", item_col: str = "product"
) -> pd.DataFrame:
    """The ``n`` best products by ``revenue`` (sum of line paid) or ``units`` (sum of qty),
    with orders (distinct) for each."""
    require(lines, [item_col, "qty", "paid", "order_id"], "lines")
    grouped = lines.groupby(item_col)
    out = pd.DataFrame(
        {
            "units": grouped["qty"].sum(),
            "revenue": grouped["paid"].sum(),
            "orders": grouped["order_id"].nunique(),
        }
    )
    return out.sort_values([by, "orders"], ascending=False).head(n)


def checkout_recovery(
    events: pd.DataFrame,
    window: timedelta = timedelta(days=7),
    abandoned: str = "checkout_abandoned",
    purchase: str = "purchase",
) -> pd.DataFrame:
    """Abandoned checkouts and their recovery: an abandoned checkout is recovered when the same
    customer makes a purchase within ``window`` after it. One row: abandoned, recovered, rate,
    recovered_revenue (the amount of the first such purchase)."""
    require(events, ["customer_id", "type", "occurred_at"], "events")
    ev = events.assign(occurred_at=wall_clock(events["occurred_at"]))
    left = ev[ev["type"] == abandoned].sort_values("occurred_at")
    right = ev[(ev["type"] == purchase) & ev["customer_id"].notna()].sort_values("occurred_at")
    amount = right["amount"] if "amount" in right else pd.Series(0.0, index=right.index)
    right = right.assign(bought_at=right["occurred_at"], bought=amount.astype(float))
    matched = pd.merge_asof(
        left[["customer_id", "occurred_at"]].dropna(subset=["customer_id"]),
        right[["customer_id", "occurred_at", "bought_at", "bought"]],
        on="occurred_at",
        by="customer_id",
        direction="forward",
        tolerance=pd.Timedelta(window),
    )
    recovered = int(matched["bought_at"].notna().sum())
    total = len(left)
    return pd.DataFrame(
        {
            "abandoned": [total],
            "recovered": [recovered],
            "rate": [recovered / total if total else np.nan],
            "recovered_revenue": [float(matched["bought"].sum())],
        }
    )
