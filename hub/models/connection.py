"""Bound stores ("connections"), their sync runs and stream cursors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Model
from hub.models.types import UTCDateTime, utcnow

SYNC_MODES = ("manual", "auto", "disabled")


class Connection(Model):
    """A store bound to a workspace.

    ``bound_key`` holds the platform's store id while the store is bound and NULL after unbind:
    the unique (platform, bound_key) pair lets a store be bound to at most one workspace at a
    time (Y1), across all workspaces, while unbound history rows stay for the orders. A store
    checked against a custom API base (a sandbox, a server of one's own) is keyed
    ``<id>@<origin of the base>`` instead, so that it never blocks the real store
    (``hub.services.connections.claim_key``).
    """

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("platform", "bound_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    platform: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    bound_key: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    credentials_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|error|unbound
    sync_mode: Mapped[str] = mapped_column(String(20), default="manual")
    sync_interval_minutes: Mapped[int | None] = mapped_column()
    credential_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    api_calls: Mapped[int] = mapped_column(default=0)
    active_run_id: Mapped[int | None] = mapped_column()
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What the store's app may not do that the hub does without (a permission refused): shown
    # on the store page; set by the bind and each credentials check, added to by syncs.
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    # What the platform granted the credentials (Shopify's access scopes), read on bind
    granted: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Y5: an automatic sync runs every N minutes, INTERVAL_MIN <= N <= INTERVAL_MAX.
    INTERVAL_MIN, INTERVAL_MAX, INTERVAL_DEFAULT = 30, 1440, 60

    @property
    def is_bound(self) -> bool:
        return self.bound_key is not None

    @property
    def sync_interval(self) -> timedelta:
        """The time between automatic syncs: the stored minutes (INTERVAL_DEFAULT when unset),
        kept within Y5's bounds."""
        minutes = self.sync_interval_minutes or self.INTERVAL_DEFAULT
        return timedelta(minutes=max(self.INTERVAL_MIN, min(self.INTERVAL_MAX, minutes)))


class SyncRun(Model):
    """Business status of one sync: RQ only carries it. id doubles as the RQ job's key."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_conn_status", "connection_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # one of STATUSES
    full: Mapped[bool] = mapped_column(default=False)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")  # manual|auto|api|resume
    job_id: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(default=0)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    api_calls: Mapped[int] = mapped_column(default=0)
    error_class: Mapped[str | None] = mapped_column(String(20))  # configuration|transient|system
    error_message: Mapped[str | None] = mapped_column(Text)

    ACTIVE = ("queued", "running", "retrying")  # the run holds its store (one at a time)
    FINISHED = ("succeeded", "failed")
    STATUSES = ACTIVE + FINISHED


class Cursor(Model):
    """Per-stream state: the bookmark of the last finished window and any in-progress position."""

    __tablename__ = "cursors"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    stream: Mapped[str] = mapped_column(String(60))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
