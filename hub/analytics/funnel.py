"""Funnels over events with PostHog's semantics.

The conversion window runs from the entry into step 1; a later step-1 event re-anchors the
window (the newest entry is the one that can go furthest); a person counts in step k when the
furthest step they reached is >= k. ``order`` is "ordered" (other events may come between
steps), "strict" (any other event of the person breaks the sequence) or "any" (the steps in any
order within the window from the first of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pandas as pd

from hub.analytics.frames import AnalyticsError, as_ns, require

ORDERS = ("ordered", "strict", "any")


def funnel(
    events: pd.DataFrame,
    steps: Sequence[str],
    window: timedelta | pd.Timedelta = timedelta(days=14),
    order: str = "ordered",
    breakdown: str | None = None,
    person_col: str = "customer_id",
    event_col: str = "type",
    time_col: str = "occurred_at",
) -> pd.DataFrame:
    """People reaching each step: columns step (1-based), event, persons, conversion (from
    step 1) and step_conversion (from the previous step); with ``breakdown`` (a column of
    ``events``, valued from the person's first step-1 event) one block per value."""
    if order not in ORDERS:
        raise AnalyticsError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if not steps:
        raise AnalyticsError("a funnel needs at least one step")
    require(events, [person_col, event_col, time_col, breakdown], "events")
    reached = furthest_steps(events, steps, window, order, person_col, event_col, time_col)
    if breakdown is None:
        return _table(reached, steps)
    first = events[events[event_col] == steps[0]].sort_values(time_col, kind="stable")
    value = first.drop_duplicates(person_col).set_index(person_col)[breakdown]
    frames = []
    for key, group in reached.groupby(value.reindex(reached.index), dropna=False):
        frames.append(_table(group, steps).assign(**{breakdown: key}))
    if not frames:  # nobody entered the funnel: the steps with no one, under no breakdown value
        return _table(reached, steps).assign(**{breakdown: pd.Series(dtype=object)})
    return pd.concat(frames, ignore_index=True)


def _table(reached: pd.Series, steps: Sequence[str]) -> pd.DataFrame:
    persons = [int((reached >= k).sum()) for k in range(1, len(steps) + 1)]
    out = pd.DataFrame({"step": range(1, len(steps) + 1), "event": list(steps), "persons": persons})
    base = persons[0] or np.nan
    out["conversion"] = out["persons"] / base
    prev = out["persons"].shift(1).fillna(out["persons"].iloc[0]).replace(0, np.nan)
    out["step_conversion"] = out["persons"] / prev
    return out


def furthest_steps(
    events: pd.DataFrame,
    steps: Sequence[str],
    window: timedelta | pd.Timedelta,
    order: str = "ordered",
    person_col: str = "customer_id",
    event_col: str = "type",
    time_col: str = "occurred_at",
) -> pd.Series:
    """Per person who entered the funnel: the furthest step reached (1-based)."""
    span = int(pd.Timedelta(window).value)
    frame = events[[person_col, event_col]].copy()
    frame["_t"] = as_ns(events[time_col])
    if order != "strict":  # other events don't matter
        frame = frame[frame[event_col].isin(list(steps))]
    frame = frame.sort_values([person_col, "_t"], kind="stable")
    walk = {"ordered": _ordered, "strict": _strict, "any": _any}[order]
    result: dict[object, int] = {}
    persons = frame[person_col].to_numpy()
    names, times = frame[event_col].tolist(), frame["_t"].tolist()  # plain Python: fast loops
    bounds = np.flatnonzero(np.r_[True, persons[1:] != persons[:-1], True]) if len(frame) else []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        best = walk(names[lo:hi], times[lo:hi], list(steps), span)
        if best > 0:
            result[persons[lo]] = best
    return pd.Series(result, dtype=int, name="furthest_step")


def _matches(name: object, steps: list[str]) -> list[int]:
    return [k for k, step in enumerate(steps) if step == name]


def _step_index(steps: list[str]) -> dict[object, list[int]]:
    """Event name -> the (0-based) steps it matches, last first."""
    return {name: list(reversed(_matches(name, steps))) for name in set(steps)}


def _ordered(names: list, times: list, steps: list[str], span: int) -> int:
    """anchor[k]: the newest step-1 time of a chain that has completed step k (0-based)."""
    anchor: list[int | None] = [None] * len(steps)
    index = _step_index(steps)
    for name, t in zip(names, times, strict=True):
        for k in index.get(name, ()):
            if k == 0:
                anchor[0] = t
            elif _can_advance(anchor[k - 1], anchor[k], t, span):
                anchor[k] = anchor[k - 1]
    return max((k + 1 for k, a in enumerate(anchor) if a is not None), default=0)


def _can_advance(prev: int | None, current: int | None, t: int, span: int) -> bool:
    """A chain anchored at ``prev`` may take this step if within the window and newer."""
    in_window = prev is not None and t - prev <= span
    return in_window and (current is None or prev > current)


def _strict(names: list, times: list, steps: list[str], span: int) -> int:
    """One live chain: the next event must be the next step within the window, else it breaks."""
    best, level, start = 0, -1, 0
    for name, t in zip(names, times, strict=True):
        nxt = level + 1
        if level >= 0 and nxt < len(steps) and steps[nxt] == name and t - start <= span:
            level = nxt
        elif steps[0] == name:
            level, start = 0, t
        else:
            level = -1
        best = max(best, level + 1)
    return best


def _any(names: list, times: list, steps: list[str], span: int) -> int:
    """From each step event as the start: distinct steps done within the window after it."""
    best = 0
    for i, t in enumerate(times):
        done: set[str] = set()
        j = i
        while j < len(times) and times[j] - t <= span:
            done.add(names[j])
            j += 1
        best = max(best, len(done & set(steps)))
    return best
