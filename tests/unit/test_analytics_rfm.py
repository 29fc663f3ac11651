"""rfm_summary against lifetimes (the reference) on CDNOW and edge cases; rfm_scores by hand."""

from __future__ import annotations

import warnings
from importlib.resources import files

import pandas as pd
import pytest

from hub.analytics import RF_SEGMENTS, rfm_scores, rfm_summary, segment_summary


def _reference():
    """lifetimes' summary function. Test-only shim: lifetimes 0.11 sets a pandas option that
    pandas 3 deprecates at import; the warning is silenced, the function is untouched."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes.utils import summary_data_from_transaction_data
    return summary_data_from_transaction_data


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The CDNOW master transactions shipped inside the lifetimes package (read directly:
    lifetimes.datasets needs pkg_resources, gone from current setuptools)."""
    _reference()  # imports lifetimes under the shim
    path = files("lifetimes") / "datasets" / "CDNOW_master.txt"
    df = pd.read_csv(
        str(path), sep=r"\s+", skiprows=1, names=["id", "date", "cds", "amount"],
        dtype={"date": str},
    )  # fmt: skip
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def _compare(df: pd.DataFrame, **kwargs) -> pd.DataFrame:
    ref_kwargs = dict(kwargs)
    if "monetary_col" in ref_kwargs:  # lifetimes names it monetary_value_col
        ref_kwargs["monetary_value_col"] = ref_kwargs.pop("monetary_col")
    expected = _reference()(df, "id", "date", **ref_kwargs).sort_index()
    got = rfm_summary(df, "id", "date", **kwargs)
    assert list(got.index) == list(expected.index)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=1e-9)
    return got


@pytest.mark.parametrize(
    "kwargs",
    [
        {"monetary_col": "amount"},
        {"monetary_col": "amount", "observation_period_end": "1997-09-30"},
        {"monetary_col": "amount", "freq": "W", "observation_period_end": "1998-06-30"},
        {"monetary_col": "amount", "include_first_transaction": True},
        {"monetary_col": "amount", "freq": "h", "freq_multiplier": 24},
        {},
    ],
)
def test_a4_rfm_summary_equals_lifetimes_on_cdnow(cdnow: pd.DataFrame, kwargs: dict) -> None:
    got = _compare(cdnow, **kwargs)
    assert len(got) > 20_000
    assert got["frequency"].max() > 10


def _tx(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "date", "amount"]).assign(
        date=lambda d: pd.to_datetime(d["date"])
    )


def test_a4_rfm_same_day_orders_collapse_and_zero_amounts() -> None:
    df = _tx(
        [
            ("a", "2024-01-01 09:00", 10.0),
            ("a", "2024-01-01 18:00", 5.0),  # same day: one period worth 15
            ("a", "2024-01-03 10:00", 0.0),  # a zero-amount repeat counts as a repeat
            ("a", "2024-01-05 10:00", 20.0),
            ("b", "2024-01-02 10:00", 0.0),
        ]
    )
    got = _compare(df, monetary_col="amount", observation_period_end="2024-01-10")
    assert got.loc["a"].tolist() == [2.0, 4.0, 9.0, 10.0]  # mean(0, 20)
    assert got.loc["b"].tolist() == [0.0, 0.0, 8.0, 0.0]


def test_a4_rfm_customer_only_after_end_is_dropped() -> None:
    df = _tx([("a", "2024-01-01", 1.0), ("late", "2024-02-01", 9.0), ("a", "2024-02-02", 4.0)])
    got = _compare(df, monetary_col="amount", observation_period_end="2024-01-15")
    assert list(got.index) == ["a"]
    assert got.loc["a", "frequency"] == 0


def test_a4_rfm_weekly_periods_start_on_monday() -> None:
    # 2024-01-07 is a Sunday, 2024-01-08 a Monday: two weeks, not one.
    df = _tx([("a", "2024-01-01", 1.0), ("a", "2024-01-07", 2.0), ("a", "2024-01-08", 4.0)])
    got = _compare(df, monetary_col="amount", freq="W", observation_period_end="2024-01-31")
    assert got.loc["a"].tolist() == [1.0, 1.0, 4.0, 4.0]


def test_a4_rfm_tz_aware_times_use_their_own_calendar() -> None:
    times = pd.to_datetime(["2024-01-01 23:30", "2024-01-02 00:30"]).tz_localize("Asia/Shanghai")
    df = pd.DataFrame({"id": ["a", "a"], "date": times, "amount": [1.0, 2.0]})
    got = rfm_summary(df, "id", "date", "amount")
    assert got.loc["a", "frequency"] == 1.0  # two Shanghai days, though one UTC day


def test_a4_rfm_scores_quintiles_and_segments_by_hand() -> None:
    rows = []
    # five customers: c1 recent and frequent ... c5 long gone with one order
    for i, (last_day, n_orders, amount) in enumerate(
        [(30, 5, 100), (28, 4, 80), (20, 3, 60), (10, 2, 40), (1, 1, 20)], start=1
    ):
        for k in range(n_orders):
            rows.append(
                (f"c{i}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=last_day - k), amount)
            )
    df = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])
    got = rfm_scores(df, snapshot="2024-02-01")
    assert got.loc["c1", "recency"] == 1.0
    assert got["R"].tolist() == [5, 4, 3, 2, 1]
    assert got["F"].tolist() == [5, 4, 3, 2, 1]
    assert got["M"].tolist() == [5, 4, 3, 2, 1]
    assert got["segment"].tolist() == [
        "champions", "loyal customers", "need attention", "hibernating", "hibernating",
    ]  # fmt: skip


def test_a4_rfm_scores_one_time_buyer_ties_are_broken() -> None:
    df = pd.DataFrame(
        {
            "customer_id": list("abcdefghij"),
            "ordered_at": pd.date_range("2024-01-01", periods=10, freq="D"),
            "amount": [10.0] * 10,
        }
    )
    got = rfm_scores(df)
    assert sorted(got["F"].value_counts().tolist()) == [2, 2, 2, 2, 2]
    assert set(got["M"]) == {5}  # equal money ties at the top


def test_a4_rfm_segment_map_is_a_parameter() -> None:
    df = pd.DataFrame(
        {"customer_id": ["a"], "ordered_at": [pd.Timestamp("2024-01-01")], "amount": [1.0]}
    )
    got = rfm_scores(df, segments={"everyone": ("12345", "12345")})
    assert got["segment"].tolist() == ["everyone"]
    covered = {(r, f) for r_set, f_set in RF_SEGMENTS.values() for r in r_set for f in f_set}
    assert len(covered) == 25  # the classic map covers every RF cell
    assert segment_summary(got)["customers"].tolist() == [1]
