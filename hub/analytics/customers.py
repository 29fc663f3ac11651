"""Repurchase: repeat and returning-customer rates, cohorts, time between orders, new vs
returning. Input is the transactions frame (one row per order) of ``load_transactions``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.analytics.frames import require, to_timestamp, wall_clock

CUSTOMER, TIME = "customer_id", "ordered_at"


def _known(df: pd.DataFrame) -> pd.DataFrame:
    require(df, [CUSTOMER, TIME], "transactions")
    out = df[df[CUSTOMER].notna()]
    return out.assign(**{TIME: wall_clock(out[TIME])})


def repeat_purchase_rate(df: pd.DataFrame) -> float:
    """Share of customers in ``df`` with two or more orders (NaN without customers)."""
    orders = _known(df).groupby(CUSTOMER).size()
    return float((orders >= 2).mean()) if len(orders) else float("nan")


def returning_customer_rate(df: pd.DataFrame, start: object, end: object) -> float:
    """Shopify's returning customer rate: among customers who ordered in [start, end),
    returning / (returning + first-time), where returning means more than one order up to
    ``end`` (one before the period, or two within it)."""
    known = _known(df)
    lo, hi = to_timestamp(start), to_timestamp(end)
    active = known.loc[(known[TIME] >= lo) & (known[TIME] < hi), CUSTOMER].unique()
    if len(active) == 0:
        return float("nan")
    upto = known[(known[TIME] < hi) & known[CUSTOMER].isin(active)].groupby(CUSTOMER).size()
    return float((upto >= 2).sum() / len(active))


def cohort_retention(df: pd.DataFrame, freq: str = "M") -> pd.DataFrame:
    """Share of each first-purchase cohort (month) ordering again N months after; index cohort,
    column 0 is the cohort itself (1.0), plus a ``customers`` column with the cohort size."""
    known = _known(df)
    if known.empty:  # no cohort yet
        empty = pd.DataFrame({"customers": pd.Series(dtype=int), 0: pd.Series(dtype=float)})
        empty.columns.name = "months since first order"
        return empty.rename_axis("cohort")
    period = known[TIME].dt.to_period(freq)
    ordinal = pd.Series(pd.PeriodIndex(period).asi8, index=known.index)
    first = ordinal.groupby(known[CUSTOMER]).transform("min")
    cohort = pd.PeriodIndex.from_ordinals(first.to_numpy(), freq=period.dt.freq)
    active = pd.DataFrame({"cohort": cohort, "age": ordinal - first, CUSTOMER: known[CUSTOMER]})
    counts = active.drop_duplicates().groupby(["cohort", "age"]).size().unstack(fill_value=0)
    sizes = counts[0]
    table = counts.div(sizes, axis=0)
    table.insert(0, "customers", sizes)
    table.columns.name = "months since first order"
    return table


def time_between_orders(df: pd.DataFrame) -> pd.DataFrame:
    """One row per repeat order: customer, order_id, days since that customer's previous order."""
    known = _known(df).sort_values([CUSTOMER, TIME], kind="stable")
    gap = known.groupby(CUSTOMER)[TIME].diff() / pd.Timedelta(days=1)
    cols = [CUSTOMER] + (["order_id"] if "order_id" in known else [])
    return known.loc[gap.notna(), cols].assign(days=gap[gap.notna()]).reset_index(drop=True)


def new_vs_returning(
    df: pd.DataFrame, freq: str = "D", first_orders: pd.Series | None = None
) -> pd.DataFrame:
    """Per period: new customers (their first order ever is in it), returning customers (they
    ordered before), and the revenue of each group. ``first_orders`` (customer -> first order
    time, e.g. from ``load_first_orders``) covers history before ``df``; else ``df`` is all."""
    known = _known(df).sort_values(TIME, kind="stable")
    if first_orders is None or first_orders.empty:  # pandas cannot map through an empty one
        first_time = known.groupby(CUSTOMER)[TIME].transform("min")
    else:
        first_time = known[CUSTOMER].map(wall_clock(first_orders)).fillna(known[TIME])
    period = known[TIME].dt.to_period(freq)
    is_new = period == first_time.dt.to_period(freq)
    frame = pd.DataFrame({"period": period.dt.start_time, CUSTOMER: known[CUSTOMER]})
    # a customer is new in the period of their first order ever, returning in later ones
    pairs = frame.assign(kind=np.where(is_new, "new", "returning")).drop_duplicates()
    customers = pairs.groupby(["period", "kind"]).size().unstack(fill_value=0)
    customers = customers.reindex(columns=["new", "returning"], fill_value=0)
    kind = np.where(known[TIME] == first_time, "new", "returning")  # per order: first or not
    frame = frame.assign(kind=kind)
    if "amount" in known:
        frame["amount"] = known["amount"]
        money = frame.pivot_table(
            index="period", columns="kind", values="amount", aggfunc="sum", fill_value=0
        ).reindex(columns=["new", "returning"], fill_value=0)
        customers = customers.join(money.add_suffix("_revenue"))
    customers.columns.name = None
    return customers
