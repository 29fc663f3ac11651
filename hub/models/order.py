"""Orders, their lines and refunds. Upserted on (workspace, source, external id)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.records import STATUSES
from hub.models.base import Model
from hub.models.types import Money, UTCDateTime, utcnow

__all__ = ["STATUSES", "Order", "OrderLine", "OrderRefund"]


CUSTOMER_INDEX = ("customer_id", "workspace_id", "ordered_at", "status", "amount_paid")


class Order(Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "external_id"),
        Index("ix_orders_ws_ordered", "workspace_id", "ordered_at"),
        Index("ix_orders_ws_order_no", "workspace_id", "order_no"),
        # covering: RF figures (last order, count) and a rule's aggregates (count, total spent
        # over the purchased statuses) are read from the index alone
        Index("ix_orders_customer", *CUSTOMER_INDEX),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    order_no: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    sales_channel: Mapped[str | None] = mapped_column(String(100))
    store_id: Mapped[str | None] = mapped_column(String(200))
    store_name: Mapped[str | None] = mapped_column(String(200))
    platform_status: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    amount_total: Mapped[Decimal | None] = mapped_column(Money)
    amount_paid: Mapped[Decimal | None] = mapped_column(Money)  # net of refunds and cancel
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    cancelled_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # For sources without versions (spreadsheets): a digest of the last snapshot taken, so a
    # re-import of the same row is a no-op and a changed row is an update.
    content_hash: Mapped[str | None] = mapped_column(String(32))
    consignee_name: Mapped[str | None] = mapped_column(String(200))
    consignee_phone: Mapped[str | None] = mapped_column(String(64))
    consignee_country: Mapped[str | None] = mapped_column(String(100))
    consignee_province: Mapped[str | None] = mapped_column(String(100))
    consignee_city: Mapped[str | None] = mapped_column(String(100))
    consignee_district: Mapped[str | None] = mapped_column(String(100))
    consignee_address: Mapped[str | None] = mapped_column(String(500))
    payment_no: Mapped[str | None] = mapped_column(String(200))
    payment_method: Mapped[str | None] = mapped_column(String(100))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Shipments sent back to the shop from the hub (W8), oldest first: {carrier,
    # carrier_name, waybill, shipped_at, lines, skipped_lines}. Kept apart from
    # ``properties``, which every synced snapshot replaces (hub.services.shipping).
    shipments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderLine(Model):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    product_external_id: Mapped[str | None] = mapped_column(String(200))
    sku_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(500))
    qty: Mapped[int] = mapped_column(default=1)
    unit_price: Mapped[Decimal | None] = mapped_column(Money)
    total: Mapped[Decimal | None] = mapped_column(Money)
    paid: Mapped[Decimal | None] = mapped_column(Money)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrderRefund(Model):
    __tablename__ = "order_refunds"
    __table_args__ = (UniqueConstraint("order_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(500))
