"""The ecommerce dashboard's numbers and figures (A3), from the same library as the notebooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from hub.analytics import charts, customers, loaders, orders

RECOVERY_WINDOW = timedelta(days=7)


@dataclass
class Dashboard:
    start: pd.Timestamp
    end: pd.Timestamp  # exclusive
    sources: list[str]
    kpis: dict[str, float] = field(default_factory=dict)
    figures: dict[str, go.Figure] = field(default_factory=dict)
    top_products: pd.DataFrame | None = None
    # Figures with nothing to draw in the range (no orders, no checkouts …): the page shows an
    # empty state for each instead of empty axes (issue 22.6).
    empty: set[str] = field(default_factory=set)


def default_range(
    workspace: Any, engine: Any = None, days: int = 90, tz: str = "UTC"
) -> tuple[str, str]:
    """The ``days`` days up to the newest order (or today), as inclusive YYYY-MM-DD bounds of
    the calendar of ``tz`` (the workspace's zone)."""
    last = loaders.last_order_time(workspace, engine=engine) or pd.Timestamp.now(tz="UTC")
    last = last.tz_convert(tz)
    return (last - pd.Timedelta(days=days - 1)).strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")


def build(
    workspace: Any,
    start: str,
    end: str,
    sources: list[str] | None = None,
    engine: Any = None,
    freq: str = "D",
    tz: str = "UTC",
) -> Dashboard:
    """KPIs and figures for orders in [start, end] (days of ``tz``, the workspace's zone, end
    included); the charts' days are that zone's days."""
    lo = _day_start(pd.Timestamp(start), tz)
    hi = _day_start(pd.Timestamp(end) + pd.Timedelta(days=1), tz)  # a DST day: 23 or 25 h
    tx = loaders.load_transactions(workspace, lo, hi, sources, engine=engine, tz=tz)
    lines = loaders.load_lines(workspace, lo, hi, sources, engine=engine, tz=tz)
    first = loaders.load_first_orders(workspace, engine=engine, tz=tz)
    events = loaders.load_events(
        workspace, lo, hi + RECOVERY_WINDOW, sources,
        types=["checkout_abandoned", "purchase"], engine=engine, tz=tz,
    )  # fmt: skip
    board = Dashboard(lo, hi, list(sources or []))
    board.kpis = _kpis(tx)
    board.kpis["returning_customer_rate"] = returning_rate(tx, first, lo)
    board.kpis |= _recovery(events, hi)
    board.figures = _figures(tx, lines, first, board.kpis, freq)
    board.top_products = orders.top_products(lines, n=10) if len(lines) else None
    board.empty = _empty(tx, lines, board.kpis)
    return board


def _day_start(day: pd.Timestamp, tz: str) -> pd.Timestamp:
    """Midnight of ``day`` in ``tz`` (where a DST change skips midnight, when the day begins)."""
    return day.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)


def _empty(tx: pd.DataFrame, lines: pd.DataFrame, kpis: dict[str, float]) -> set[str]:
    """The figures with no data: every order chart without orders, the top products without
    lines, the checkouts without a single abandoned or recovered checkout."""
    empty: set[str] = set()
    if tx.empty:
        empty |= {"revenue", "orders", "aov", "new_vs_returning", "revenue_by_source"}
    elif tx.dropna(subset=["customer_id"]).empty:
        empty.add("new_vs_returning")
    if lines.empty:
        empty.add("top_products")
    if not (kpis.get("abandoned") or kpis.get("recovered")):
        empty.add("checkouts")
    return empty


def _kpis(tx: pd.DataFrame) -> dict[str, float]:
    known = tx.dropna(subset=["customer_id"])
    return {
        "revenue": float(tx["amount"].sum()),
        "orders": float(len(tx)),
        "aov": orders.aov(tx),
        "customers": float(known["customer_id"].nunique()),
        "repeat_purchase_rate": customers.repeat_purchase_rate(known),
    }


def _recovery(events: pd.DataFrame, hi: pd.Timestamp) -> dict[str, float]:
    abandoned = (events["type"] == "checkout_abandoned") & (events["occurred_at"] >= hi)
    table = orders.checkout_recovery(events[~abandoned], window=RECOVERY_WINDOW).iloc[0]
    return {
        "abandoned": float(table["abandoned"]),
        "recovered": float(table["recovered"]),
        "recovery_rate": float(table["rate"]),
        "recovered_revenue": float(table["recovered_revenue"]),
    }


def _figures(
    tx: pd.DataFrame,
    lines: pd.DataFrame,
    first: pd.Series,
    rec: dict[str, float],
    freq: str,
) -> dict[str, go.Figure]:
    over = orders.orders_over_time(tx, freq=freq)
    nvr = customers.new_vs_returning(tx, freq=freq, first_orders=first)
    by_source = orders.revenue_by_source(tx)
    top = orders.top_products(lines, n=10) if len(lines) else pd.DataFrame({"revenue": []})
    funnel = pd.Series({"abandoned": rec["abandoned"], "recovered": rec["recovered"]})
    return {
        "revenue": charts.line_chart(over, ["revenue"], "Revenue over time"),
        "orders": charts.bar_chart(over["orders"], "Orders"),
        "aov": charts.line_chart(over, ["aov"], "Average order value"),
        "new_vs_returning": charts.stacked_bars(
            nvr, ["new", "returning"], "New vs returning customers"
        ),
        "top_products": charts.bar_chart(
            top["revenue"].iloc[::-1], "Top products by revenue", horizontal=True
        ),
        "revenue_by_source": charts.bar_chart(by_source["revenue"], "Revenue by source"),
        "checkouts": charts.bar_chart(funnel, "Abandoned checkouts and recovered"),
    }


def returning_rate(tx: pd.DataFrame, first: pd.Series, lo: pd.Timestamp) -> float:
    """Shopify's returning customer rate of the customers in ``tx`` (orders from ``lo`` on):
    returning when they ordered twice in it or ordered before ``lo`` (``first``: first order)."""
    known = tx.dropna(subset=["customer_id"])
    if known.empty:
        return float("nan")
    counts = known.groupby("customer_id").size()
    before = first.reindex(counts.index) < lo
    return float(((counts >= 2) | before).mean())
