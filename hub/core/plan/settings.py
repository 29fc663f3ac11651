"""Event settings (Y10), in memory: each recorded event of a type with a setting moves its
customer's stage forward and adds to the activity score. The store reads the settings and the
stages and writes the changes (``hub.core.store.settings``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Protocol

# Customer stages in the order they advance; an event can only move a customer forward.
STAGES = ("prospect", "lead", "customer", "repeat", "loyal")


class Setting(Protocol):
    """What a per-event-type setting holds (``hub.models.EventSetting``)."""

    score_delta: int
    advance_to_stage: str | None


def advance_stage(current: str | None, target: str | None) -> str | None:
    """The later of two stages; unknown targets change nothing."""
    if target is None or target not in STAGES:
        return current
    if current is None or current not in STAGES:
        return target
    return target if STAGES.index(target) > STAGES.index(current) else current


def effects(
    settings: Mapping[str, Setting], events: Iterable[tuple[str, int | None]]
) -> dict[int, list[Setting]]:
    """The settings each customer's recorded events hit, from (event type, customer id) pairs."""
    hits: dict[int, list[Setting]] = defaultdict(list)
    for type_, customer_id in events:
        setting = settings.get(type_)
        if setting and customer_id:
            hits[customer_id].append(setting)
    return hits


def changes(
    hits: Mapping[int, list[Setting]], stages: Mapping[int, str | None]
) -> list[tuple[str | None, int, int]]:
    """(new stage, score to add, customer id) per customer hit, given their current stages."""
    out = []
    for cid, settings in hits.items():
        stage = stages.get(cid)
        for s in settings:
            stage = advance_stage(stage, s.advance_to_stage)
        out.append((stage, sum(s.score_delta for s in settings), cid))
    return out
