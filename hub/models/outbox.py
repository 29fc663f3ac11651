"""The outbound webhook outbox (A1): one row per delivery a rule asked for, written in the
transaction of the event that fired it, delivered by the worker (hub.automation.delivery), with
a log of every attempt and the targets a receiver disabled by answering 410 Gone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Model
from hub.models.types import UTCDateTime, utcnow

# pending: waiting for its (next) attempt; delivering: claimed by a worker until claimed_until;
# delivered: a 2xx answer; failed: every retry spent (or a manual redelivery failed);
# disabled: its target answered 410 Gone (or was disabled) before it was delivered.
OUTBOX_STATUSES = ("pending", "delivering", "delivered", "failed", "disabled")


class OutboxDelivery(Model):
    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        UniqueConstraint("msg_id"),
        Index("ix_outbox_deliveries_due", "status", "next_attempt_at"),
        Index("ix_outbox_deliveries_workspace", "workspace_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    # The rule and its run (issue 25's rules tables; no foreign key: they live on another branch
    # and a rule's deletion keeps its delivery log).
    rule_id: Mapped[int | None] = mapped_column(index=True)
    rule_run_id: Mapped[int | None]
    url: Mapped[str] = mapped_column(String(2000))
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)  # hub.crypto, like credentials
    event_type: Mapped[str] = mapped_column(String(60))
    # The exact JSON body sent, written once: every retry and redelivery sends the same bytes
    # under the same webhook-id (msg_id).
    body: Mapped[str] = mapped_column(Text)
    msg_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxAttempt(Model):
    """One HTTP attempt of a delivery: what the receiver answered (or why none came)."""

    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("outbox_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None]
    duration_ms: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    manual: Mapped[bool] = mapped_column(default=False)  # a redelivery the admin asked for


class OutboxDisabledTarget(Model):
    """A target URL no delivery of the workspace goes to: it answered 410 Gone. The admin
    enables it again (UI or API)."""

    __tablename__ = "outbox_disabled_targets"
    __table_args__ = (UniqueConstraint("workspace_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    url: Mapped[str] = mapped_column(String(2000))
    reason: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
