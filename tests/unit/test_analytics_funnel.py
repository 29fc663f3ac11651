"""Funnels on the toy cases of PostHog's rules, and paths."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from hub.analytics import AnalyticsError, funnel, paths, sankey

T0 = pd.Timestamp("2024-03-01", tz="UTC")
STEPS = ["view", "cart", "purchase"]


def events(*rows: tuple) -> pd.DataFrame:
    """rows of (person, event, hours after T0[, channel])."""
    out = [
        {"customer_id": r[0], "type": r[1], "occurred_at": T0 + pd.Timedelta(hours=r[2]),
         "channel": r[3] if len(r) > 3 else "web"}
        for r in rows
    ]  # fmt: skip
    return pd.DataFrame(out)


def persons(table: pd.DataFrame) -> list[int]:
    return table["persons"].tolist()


def test_a4_funnel_counts_furthest_step_and_conversion() -> None:
    ev = events(
        (1, "view", 0), (1, "cart", 1), (1, "purchase", 2),
        (2, "view", 0), (2, "cart", 5),
        (3, "view", 0),
        (4, "cart", 0), (4, "purchase", 1),  # never entered step 1: not counted
    )  # fmt: skip
    table = funnel(ev, STEPS, window=timedelta(days=1))
    assert persons(table) == [3, 2, 1]
    assert table["conversion"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert table["step_conversion"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 2])


def test_a4_funnel_window_expiry() -> None:
    ev = events((1, "view", 0), (1, "cart", 10), (1, "purchase", 30))
    assert persons(funnel(ev, STEPS, window=timedelta(hours=24))) == [1, 1, 0]
    assert persons(funnel(ev, STEPS, window=timedelta(hours=30))) == [1, 1, 1]


def test_a4_funnel_later_step_one_reanchors_the_window() -> None:
    ev = events((1, "view", 0), (1, "view", 100), (1, "cart", 101), (1, "purchase", 102))
    assert persons(funnel(ev, STEPS, window=timedelta(hours=24))) == [1, 1, 1]


def test_a4_funnel_reanchor_keeps_the_older_chain_progress() -> None:
    # view, cart; later a second view; purchase too late for the first chain and the
    # second chain lacks a cart: furthest step stays 2.
    ev = events((1, "view", 0), (1, "cart", 1), (1, "view", 20), (1, "purchase", 30))
    assert persons(funnel(ev, STEPS, window=timedelta(hours=24))) == [1, 1, 0]


def test_a4_funnel_strict_order_breaks_on_other_events() -> None:
    ev = events(
        (1, "view", 0), (1, "search", 1), (1, "cart", 2), (1, "purchase", 3),
        (2, "view", 0), (2, "cart", 1), (2, "purchase", 2),
    )  # fmt: skip
    assert persons(funnel(ev, STEPS, window=timedelta(days=1), order="ordered")) == [2, 2, 2]
    assert persons(funnel(ev, STEPS, window=timedelta(days=1), order="strict")) == [2, 1, 1]


def test_a4_funnel_any_order() -> None:
    ev = events(
        (1, "purchase", 0), (1, "cart", 1), (1, "view", 2),
        (2, "cart", 0), (2, "view", 50),
    )  # fmt: skip
    assert persons(funnel(ev, STEPS, window=timedelta(days=1), order="ordered")) == [2, 0, 0]
    assert persons(funnel(ev, STEPS, window=timedelta(days=1), order="any")) == [2, 1, 1]


def test_a4_funnel_breakdown_by_property_of_first_step() -> None:
    ev = events(
        (1, "view", 0, "web"), (1, "cart", 1, "app"),
        (2, "view", 0, "app"), (2, "view", 2, "web"),
        (3, "view", 0, "app"), (3, "cart", 1, "app"),
    )  # fmt: skip
    table = funnel(ev, STEPS[:2], window=timedelta(days=1), breakdown="channel")
    by = table.set_index(["channel", "step"])["persons"]
    assert by[("app", 1)] == 2 and by[("app", 2)] == 1
    assert by[("web", 1)] == 1 and by[("web", 2)] == 1


def test_a4_funnel_refuses_bad_arguments() -> None:
    with pytest.raises(AnalyticsError, match="order"):
        funnel(events((1, "view", 0)), STEPS, order="sideways")
    with pytest.raises(AnalyticsError, match="lacks column"):
        funnel(events((1, "view", 0)).drop(columns="type"), STEPS)


def test_a4_paths_top_sequences_and_sankey() -> None:
    ev = events(
        (1, "view", 0), (1, "cart", 1), (1, "purchase", 2), (1, "review", 3),
        (2, "search", 0), (2, "view", 1), (2, "cart", 2), (2, "purchase", 3),
        (3, "view", 0), (3, "view", 1),
        (4, "search", 0),
    )  # fmt: skip
    top = paths(ev, start="view", end="purchase", depth=5)
    assert top["path"].tolist() == ["view → cart → purchase", "view → view"]
    assert top["persons"].tolist() == [2, 1]
    assert top["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    short = paths(ev, depth=2)
    assert short.set_index("path").loc["view → cart", "persons"] == 1
    fig = sankey(top)
    link = fig.data[0].link
    assert sum(link.value) == 2 + 2 + 1  # two links of the 2-person path, one of the other
