"""Return order analysis: value-, order- and unit-based return rates, each labelled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.analytics.frames import require

LABELS = {
    "value_return_rate": "refunded value / sold value",
    "order_return_rate": "orders with a return / orders",
    "unit_return_rate": "returned units / sold units",
}


def allocate_refunds(lines: pd.DataFrame) -> pd.DataFrame:
    """Spread each order's ``order_refunded`` over its lines in proportion to the line's
    ``paid`` (what the buyer paid for it): adds ``value`` (= paid), ``returned_value`` and
    ``returned_qty`` (the whole units the refunded share covers; all of them when the order is
    refunded in full). Columns already present are kept."""
    require(lines, ["order_id", "qty", "paid", "order_refunded"], "lines")
    out = lines.copy()
    paid = out["paid"].fillna(0).astype(float)
    order_paid = paid.groupby(out["order_id"]).transform("sum")
    refunded = out["order_refunded"].fillna(0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip(np.where(order_paid > 0, refunded / order_paid, 0.0), 0, 1)
    if "value" not in out:
        out["value"] = paid
    if "returned_value" not in out:
        out["returned_value"] = (paid * share).round(2)
    if "returned_qty" not in out:
        out["returned_qty"] = np.floor(out["qty"] * share + 1e-9).astype(int)
    return out


def return_rates(lines: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """Return rates overall or per ``by``: sold and returned value, orders and units, and the
    three rates (value_return_rate, order_return_rate, unit_return_rate; see ``LABELS``).
    Needs ``order_id, qty, value, returned_value, returned_qty`` (value = sold value, e.g. the
    line's paid amount plus its refund)."""
    require(lines, ["order_id", "qty", "value", "returned_value", "returned_qty"], "lines")
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    require(lines, keys, "lines")
    frame = lines.assign(_returned=lines["returned_value"].astype(float) > 0)
    grouped = frame.groupby(keys, dropna=False) if keys else frame.groupby(lambda _: "all")
    out = pd.DataFrame(
        {
            "sold_value": grouped["value"].sum().astype(float),
            "returned_value": grouped["returned_value"].sum().astype(float),
            "orders": grouped["order_id"].nunique(),
            "orders_returned": frame[frame["_returned"]]
            .groupby(keys if keys else (lambda _: "all"), dropna=False)["order_id"]
            .nunique(),
            "units": grouped["qty"].sum(),
            "units_returned": grouped["returned_qty"].sum(),
        }
    ).fillna({"orders_returned": 0})
    if not keys:  # one row "all", zeros when there is no line at all
        out = out.reindex(["all"], fill_value=0)
    out["orders_returned"] = out["orders_returned"].astype(int)
    out["value_return_rate"] = out["returned_value"] / out["sold_value"].replace(0, np.nan)
    out["order_return_rate"] = out["orders_returned"] / out["orders"].replace(0, np.nan)
    out["unit_return_rate"] = out["units_returned"] / out["units"].replace(0, np.nan)
    if not keys:
        out.index = pd.Index(["all"], name="scope")
    return out
