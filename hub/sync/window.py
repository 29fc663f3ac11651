"""Sync windows and stream state.

A stream's cursor state is ``{"bookmark": ISO, "max_seen": [ISO, id], "run": {...}}``:
``bookmark`` is the end of the last finished window; ``max_seen`` the composite
(updated_at, id) maximum seen; ``run`` the window in progress (its run id, bounds, the
connector's page state after the last committed page and the records done), so a resumed
run continues after the last committed page and never re-plans its window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hub.connectors import SyncWindow
from hub.core.records import Record


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def plan(
    state: dict[str, Any],
    *,
    run_id: int,
    window_end: datetime,
    full: bool,
    lookback: timedelta,
    initial: timedelta,
) -> tuple[SyncWindow, dict[str, Any], int]:
    """(window, page state to resume from, records already done in it) for one stream."""
    current = state.get("run") or {}
    if current.get("id") == run_id:
        window = SyncWindow(_dt(current["start"]), _dt(current["end"]), bool(current.get("full")))
        return window, dict(current.get("page") or {}), int(current.get("done") or 0)
    bookmark = None if full else _dt(state.get("bookmark"))
    if bookmark is None:
        return SyncWindow(window_end - initial, window_end, True), {}, 0
    start = min(bookmark - lookback, window_end)
    return SyncWindow(start, window_end, False), {}, 0


def in_progress(
    state: dict[str, Any],
    *,
    run_id: int,
    window: SyncWindow,
    page: dict[str, Any],
    done: int,
    max_seen: list[str] | None,
) -> dict[str, Any]:
    """The state committed with a page: old bookmark kept, the page position added."""
    return {
        "bookmark": state.get("bookmark"),
        "max_seen": max_seen,
        "run": {
            "id": run_id,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "full": window.full,
            "page": page,
            "done": done,
        },
    }


def finished(
    window: SyncWindow, max_seen: list[str] | None, run_id: int | None = None
) -> dict[str, Any]:
    """The state at the end of a stream: the bookmark moves to the window's end; ``run`` names
    the run that finished it, which, resumed, does not read the stream again."""
    state: dict[str, Any] = {"bookmark": window.end.isoformat(), "max_seen": max_seen}
    if run_id is not None:
        state["finished_by"] = run_id
    return state


def finished_by(state: dict[str, Any], run_id: int) -> bool:
    """Whether this run already finished the stream (it died later and was resumed, X2)."""
    return state.get("finished_by") == run_id and not state.get("run")


def advance_max(max_seen: list[str] | None, records: list[Record]) -> list[str] | None:
    """The composite (updated_at, id) maximum over what was seen so far and ``records``."""
    best = (_dt(max_seen[0]), max_seen[1]) if max_seen else None
    for record in records:
        updated = getattr(record, "updated_at", None)
        key = getattr(record, "external_id", None)
        if updated is None or key is None:
            continue
        if best is None or (updated, str(key)) > best:
            best = (updated, str(key))
    return [best[0].isoformat(), best[1]] if best else None


def stream_due(state: dict[str, Any], minutes: int | None, now: datetime) -> bool:
    """Whether an automatic sync reads a stream declared to be read every ``minutes`` (W7:
    products daily): when never finished, still in progress, or last read that long ago."""
    if not minutes or state.get("run"):
        return True
    last = _dt(state.get("bookmark"))
    return last is None or last + timedelta(minutes=minutes) <= now
