"""What the hub keeps of deleted customers (H3) and of shops' privacy requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Model
from hub.models.types import UTCDateTime, utcnow


class CustomerTombstone(Model):
    """A deleted customer's identity, as a digest of (type, value): a later record carrying
    it is taken without a contact, so a deletion in the hub sticks (H3)."""

    __tablename__ = "customer_tombstones"
    __table_args__ = (UniqueConstraint("workspace_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrivacyRequest(Model):
    """A shop's privacy request (data_request, customer_redact, shop_redact) and what the hub
    did: ``erased`` says what was erased (field names and counts, never the data itself);
    ``report`` is what the hub held on the customer (data_request only)."""

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_ws", "workspace_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    source: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None]  # the hub's customer at the time (it may be gone since)
    status: Mapped[str] = mapped_column(String(20))  # done | not_found
    erased: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
