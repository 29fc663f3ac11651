"""Tributary analytics: pure functions on pandas DataFrames (data in, DataFrame or plotly
Figure out) and loaders that read the core in chunks. Notebooks import only this package."""

from hub.analytics.basket import basket_pairs, frequent_itemsets
from hub.analytics.charts import (
    bar_chart,
    cohort_heatmap,
    funnel_chart,
    histogram,
    line_chart,
    scatter,
    stacked_bars,
)
from hub.analytics.customers import (
    cohort_retention,
    new_vs_returning,
    repeat_purchase_rate,
    returning_customer_rate,
    time_between_orders,
)
from hub.analytics.frames import AnalyticsError, days
from hub.analytics.funnel import funnel, furthest_steps
from hub.analytics.loaders import (
    load_events,
    load_lines,
    load_transactions,
    resolve_engine,
    workspace_zone,
)
from hub.analytics.notebook import export, plotly_js, show
from hub.analytics.orders import (
    aov,
    checkout_recovery,
    orders_over_time,
    revenue_by_source,
    top_products,
)
from hub.analytics.paths import paths, sankey
from hub.analytics.returns import LABELS as RETURN_RATE_LABELS
from hub.analytics.returns import allocate_refunds, return_rates
from hub.analytics.rfm import RF_SEGMENTS, rfm_scores, rfm_summary, segment_summary

__all__ = [
    "RETURN_RATE_LABELS",
    "RF_SEGMENTS",
    "AnalyticsError",
    "allocate_refunds",
    "aov",
    "bar_chart",
    "basket_pairs",
    "checkout_recovery",
    "cohort_heatmap",
    "cohort_retention",
    "days",
    "export",
    "frequent_itemsets",
    "funnel",
    "funnel_chart",
    "furthest_steps",
    "histogram",
    "line_chart",
    "load_events",
    "load_lines",
    "load_transactions",
    "new_vs_returning",
    "orders_over_time",
    "paths",
    "plotly_js",
    "repeat_purchase_rate",
    "return_rates",
    "resolve_engine",
    "returning_customer_rate",
    "revenue_by_source",
    "rfm_scores",
    "rfm_summary",
    "sankey",
    "scatter",
    "segment_summary",
    "show",
    "stacked_bars",
    "time_between_orders",
    "top_products",
    "workspace_zone",
]
