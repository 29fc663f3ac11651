"""RFM: the lifetimes-compatible summary (frequency, recency, T, monetary value) and
quintile scores with the named segments of the classic RF map."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from hub.analytics.frames import AnalyticsError, as_ns, period_start_ns, require, to_timestamp
from hub.core.plan.rfm import RF_SEGMENTS  # the RF map, shared with hub.automation.rfm

_UNIT_NS = {"D": 86_400e9, "W": 7 * 86_400e9, "h": 3_600e9, "H": 3_600e9, "min": 60e9}
_UNIT_NS |= {"T": 60e9, "s": 1e9, "S": 1e9}


def rfm_summary(
    df: pd.DataFrame,
    customer_col: str,
    datetime_col: str,
    monetary_col: str | None = None,
    observation_period_end: object = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
) -> pd.DataFrame:
    """Per customer: frequency (repeat periods with a purchase), recency and T (in ``freq``
    units, divided by ``freq_multiplier``) and monetary_value (mean of the repeat periods'
    sums, 0 without repeats) - the numbers of lifetimes' summary_data_from_transaction_data.
    Purchases in one period collapse into one; purchases after the end are dropped."""
    require(df, [customer_col, datetime_col, monetary_col], "transactions")
    if freq not in _UNIT_NS:
        raise AnalyticsError(f"freq {freq!r} is not one of {', '.join(_UNIT_NS)}")
    periods = period_start_ns(as_ns(df[datetime_col]), freq)
    if not len(periods):  # no purchase: an empty summary
        columns = ["frequency", "recency", "T"]
        columns += [] if monetary_col is None else ["monetary_value"]
        return pd.DataFrame(columns=columns, index=pd.Index([], name=customer_col), dtype=float)
    if observation_period_end is None:
        end = periods.max()
    else:
        end = period_start_ns(np.array([to_timestamp(observation_period_end).value]), freq)[0]
    keep = periods <= end
    codes, customers = pd.factorize(df[customer_col].to_numpy()[keep], sort=True)
    amounts = None if monetary_col is None else df[monetary_col].to_numpy(float)[keep]
    return _summarise(
        codes, customers, periods[keep], amounts, end, _UNIT_NS[freq] * freq_multiplier,
        include_first_transaction, customer_col,
    )  # fmt: skip


def _summarise(
    codes: np.ndarray,
    customers: np.ndarray,
    periods: np.ndarray,
    amounts: np.ndarray | None,
    end: int,
    unit: float,
    include_first: bool,
    name: str,
) -> pd.DataFrame:
    """Collapse (customer, period) pairs with one sort, then read each customer's run."""
    uniq_periods, period_idx = np.unique(periods, return_inverse=True)
    width = max(len(uniq_periods), 1)
    keys, key_idx = np.unique(codes.astype(np.int64) * width + period_idx, return_inverse=True)
    cust = keys // width
    start_ns = uniq_periods[keys % width]
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]]) if len(keys) else keys
    ends = np.r_[starts[1:], len(keys)] - 1
    count = (ends - starts + 1).astype(float)
    first, last = start_ns[starts], start_ns[ends]
    out = pd.DataFrame(
        {
            "frequency": count if include_first else count - 1,
            "recency": (last - first) / unit,
            "T": (end - first) / unit,
        },
        index=pd.Index(customers[cust[starts]], name=name),
    )
    if amounts is not None:
        sums = np.bincount(key_idx, weights=amounts, minlength=len(keys))
        total = np.add.reduceat(sums, starts) if len(keys) else sums
        if include_first:
            out["monetary_value"] = total / count
        else:
            repeat = count - 1
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = (total - sums[starts]) / repeat
            out["monetary_value"] = np.where(repeat > 0, mean, 0.0)
    return out.astype(float)


def rfm_scores(
    df: pd.DataFrame,
    customer_col: str = "customer_id",
    datetime_col: str = "ordered_at",
    monetary_col: str = "amount",
    snapshot: object = None,
    segments: Mapping[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Per customer: recency (days from the last purchase to ``snapshot``, default the last
    purchase in the data), frequency (orders), monetary (sum), their 1-5 quintile scores R, F, M
    (F ranked first-come to break ties of one-time buyers) and the RF-map segment."""
    require(df, [customer_col, datetime_col, monetary_col], "transactions")
    times = pd.Series(as_ns(df[datetime_col]).astype("datetime64[ns]"), index=df.index)
    frame = pd.DataFrame({"c": df[customer_col], "t": times, "m": df[monetary_col].astype(float)})
    per = frame.groupby("c").agg(last=("t", "max"), frequency=("t", "size"), monetary=("m", "sum"))
    per.index.name = customer_col
    end = times.max() if snapshot is None else to_timestamp(snapshot)
    per["recency"] = (end - per.pop("last")) / pd.Timedelta(days=1)
    per["R"] = _quintile(per["recency"].rank(ascending=False, method="max", pct=True))
    per["F"] = _quintile(per["frequency"].rank(method="first", pct=True))
    per["M"] = _quintile(per["monetary"].rank(method="max", pct=True))
    per["segment"] = segment_of(per["R"], per["F"], segments or RF_SEGMENTS)
    return per[["recency", "frequency", "monetary", "R", "F", "M", "segment"]]


def _quintile(pct: pd.Series) -> pd.Series:
    return np.ceil(pct * 5).clip(1, 5).astype(int)


def segment_of(
    r: pd.Series, f: pd.Series, segments: Mapping[str, tuple[str, str]] = RF_SEGMENTS
) -> pd.Series:
    """The first segment whose R and F score sets hold the customer's scores ('other' if none)."""
    rs, fs = r.astype(str), f.astype(str)
    out = pd.Series("other", index=r.index, dtype=object)
    done = pd.Series(False, index=r.index)
    for name, (r_set, f_set) in segments.items():
        in_r = rs.map(lambda s, a=r_set: s in a).astype(bool)  # bool even when empty
        in_f = fs.map(lambda s, a=f_set: s in a).astype(bool)
        hit = ~done & in_r & in_f
        out[hit] = name
        done |= hit
    return out


def segment_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Customers, share, mean recency/frequency/monetary per segment, largest first."""
    grouped = scores.groupby("segment")
    out = grouped.agg(
        customers=("R", "size"),
        recency=("recency", "mean"),
        frequency=("frequency", "mean"),
        monetary=("monetary", "mean"),
    )
    out["share"] = out["customers"] / out["customers"].sum()
    return out.sort_values("customers", ascending=False)
