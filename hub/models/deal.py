"""Deals of the ecommerce pipeline (H5, H6): one per order of every source and one per checkout,
keyed by (workspace, source, kind, external id). An order's deal reads its lines from
``order_lines``; a checkout's deal keeps its lines in ``line_items``. A checkout that becomes an
order hands its deal on to the order (the same row, ``kind`` then ``order``), as HubSpot's deal
moves on from "checkout abandoned" to the order's stage."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.plan.stages import STAGES
from hub.models.base import Model
from hub.models.types import Money, UTCDateTime, utcnow

__all__ = ["KINDS", "STAGES", "Deal"]

KINDS = ("order", "checkout")


class Deal(Model):
    __tablename__ = "deals"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "kind", "external_id"),
        Index("ix_deals_ws_stage", "workspace_id", "stage"),
        Index("ix_deals_ws_token", "workspace_id", "checkout_token"),
        Index("ix_deals_order", "order_id"),
        Index("ix_deals_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    source: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # order | checkout
    external_id: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # a customer deleted in the hub leaves its deals without a contact (H3)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    name: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # a checkout's lines: [{product_external_id, sku, name, qty, price}] (an order's: order_lines)
    line_items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # the checkout's token (a checkout) or the token of the checkout it came from (an order)
    checkout_token: Mapped[str | None] = mapped_column(String(200))
    # the snapshot the stage came from: its time and version (an older one never moves it back)
    stage_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
