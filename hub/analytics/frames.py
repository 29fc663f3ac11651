"""Small shared helpers for the analysis functions: column checks and time handling."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


class AnalyticsError(ValueError):
    """A frame handed to an analysis function lacks a column or holds a bad value."""


def require(df: pd.DataFrame, columns: Iterable[str], what: str = "frame") -> None:
    """Raise AnalyticsError naming every missing column."""
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise AnalyticsError(f"{what} lacks column(s) {', '.join(missing)}")


def wall_clock(values: pd.Series) -> pd.Series:
    """Datetimes as naive wall-clock values in their own zone (tz-aware input keeps its zone's
    calendar: a Shanghai midnight stays midnight)."""
    values = pd.to_datetime(values)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values


def as_ns(values: pd.Series) -> np.ndarray:
    """Naive datetimes as int64 nanoseconds since the epoch."""
    return wall_clock(values).astype("datetime64[ns]").to_numpy().view("int64")


def to_timestamp(value: object) -> pd.Timestamp:
    """A naive wall-clock Timestamp from a str, datetime or Timestamp (zone dropped)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def period_start_ns(ns: np.ndarray, freq: str) -> np.ndarray:
    """Start of the period (pandas ``to_period(freq)``) holding each instant, as int64 ns.
    Day, hour, minute, second and Monday-based weeks are computed with integer arithmetic;
    other frequencies go through pandas."""
    unit = {"D": 86_400, "h": 3_600, "H": 3_600, "min": 60, "T": 60, "s": 1, "S": 1}.get(freq)
    if unit is not None:
        step = unit * 1_000_000_000
        return (ns // step) * step
    if freq in ("W", "W-SUN"):
        day = 86_400 * 1_000_000_000
        days = ns // day
        return (days - (days + 3) % 7) * day  # 1970-01-01 was a Thursday
    index = pd.DatetimeIndex(ns.astype("datetime64[ns]"))
    return index.to_period(freq).to_timestamp().astype("datetime64[ns]").asi8


def days(n: float) -> pd.Timedelta:
    """A duration of ``n`` days (for windows and date arithmetic in notebooks)."""
    return pd.Timedelta(days=n)
