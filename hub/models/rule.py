"""Automation rules (A1, S7) and their runs: a rule fires once per (rule, event), whatever
replays (X1): the run's UNIQUE (rule_id, event_key) is what makes it so."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Model
from hub.models.types import UTCDateTime, utcnow


class Rule(Model):
    __tablename__ = "rules"
    __table_args__ = (Index("ix_rules_ws_enabled", "workspace_id", "enabled"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(200))
    # first_purchase | purchase | return | cancel | checkout_abandoned | no_purchase
    trigger: Mapped[str] = mapped_column(String(40))
    after_hours: Mapped[int | None] = mapped_column()  # checkout_abandoned
    days: Mapped[int | None] = mapped_column()  # no_purchase
    conditions: Mapped[Any] = mapped_column(JSON, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    backfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RuleRun(Model):
    """One firing of a rule on one event (or one lapse, for ``no_purchase``)."""

    __tablename__ = "rule_runs"
    # the unique key's index serves a rule's runs too: no other index to write per run
    __table_args__ = (UniqueConstraint("rule_id", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no foreign keys (migration d2f4a6c8e013): PostgreSQL would lock the rule and workspace
    # rows for every run written; deleting a rule deletes its runs (hub.services.rules.remove)
    rule_id: Mapped[int] = mapped_column()
    workspace_id: Mapped[int] = mapped_column()
    event_key: Mapped[str] = mapped_column(String(300))
    # no foreign keys: a run outlives the event and customer it names (deletion, H3)
    event_id: Mapped[int | None] = mapped_column()
    customer_id: Mapped[int | None] = mapped_column()
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(20), default="done")  # done | backfill
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
