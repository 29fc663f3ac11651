"""Window planning and the composite cursor, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.sync.window import advance_max, finished, in_progress, plan
from tests.support.fake_platform import to_record

END = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = {"lookback": timedelta(hours=48), "initial": timedelta(days=365)}


def test_y4_first_window_reaches_initial_days_back():
    window, page, done = plan({}, run_id=1, window_end=END, full=False, **DAYS)
    assert (window.start, window.end, window.full) == (END - timedelta(days=365), END, True)
    assert (page, done) == ({}, 0)


def test_incremental_window_starts_at_bookmark_minus_lookback():
    bookmark = END - timedelta(days=1)
    state = {"bookmark": bookmark.isoformat()}
    window, _, _ = plan(state, run_id=2, window_end=END, full=False, **DAYS)
    assert window.start == bookmark - timedelta(hours=48) and not window.full
    full, _, _ = plan(state, run_id=2, window_end=END, full=True, **DAYS)
    assert full.start == END - timedelta(days=365)


def test_a_resumed_run_keeps_its_window_and_page_position():
    first, _, _ = plan({}, run_id=7, window_end=END, full=False, **DAYS)
    state = in_progress({}, run_id=7, window=first, page={"after": ["t", "9"]}, done=20,
                        max_seen=None)  # fmt: skip
    later = END + timedelta(hours=5)
    window, page, done = plan(state, run_id=7, window_end=later, full=False, **DAYS)
    assert (window.start, window.end) == (first.start, first.end)
    assert (page, done) == ({"after": ["t", "9"]}, 20)
    other, page, _ = plan(state, run_id=8, window_end=later, full=False, **DAYS)
    assert other.end == later and page == {}  # another run plans afresh
    assert finished(window, None) == {"bookmark": END.isoformat(), "max_seen": None}


def test_composite_max_breaks_ties_by_id():
    at = END.isoformat()
    recs = [to_record({"id": i, "updated_at": at}, "S") for i in ("10", "9", "11")]
    assert advance_max(None, recs) == [at, "9"]  # ids are strings: "9" > "11" > "10"
    newer = to_record({"id": "1", "updated_at": (END + timedelta(seconds=1)).isoformat()}, "S")
    assert advance_max([at, "9"], [newer]) == [newer.updated_at.isoformat(), "1"]
