"""Customer events on the timeline, and per-event-type settings (Y10)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Model
from hub.models.types import Money, UTCDateTime, utcnow


class Event(Model):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "dedupe_key"),
        # The customer's timeline reads a few dozen rows and sorts them; an (id, time) key
        # would double the index, which every event inserts into at a random place.
        Index("ix_events_customer", "customer_id"),
        Index("ix_events_ws_type_time", "workspace_id", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))  # purchase | return | cancel | ...
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    source: Mapped[str | None] = mapped_column(String(40))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventSetting(Model):
    """Stage advancement and activity score applied when an event of this type is recorded."""

    __tablename__ = "event_settings"
    __table_args__ = (UniqueConstraint("workspace_id", "event_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    advance_to_stage: Mapped[str | None] = mapped_column(String(40))
    score_delta: Mapped[int] = mapped_column(default=0)
