"""Canonical records: the contract between connectors (and imports) and the core.

Connectors map platform payloads to these dataclasses in pure mapping functions. Money is
Decimal, time is timezone-aware, platform ids are non-empty strings and an order's status is
one of ``STATUSES``; ``hub.core.checks`` holds every batch handed to ``ingest.apply`` to that
and refuses one that breaks it, naming the record and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# Normalised order statuses, in the order an order moves through them (the ORM models and
# the read layer take them from here).
STATUSES = ("pending", "paid", "shipped", "completed", "closed")


@dataclass(slots=True)
class CustomerRecord:
    """A buyer or contact. ``identities`` are (type, value) pairs in the source's priority order."""

    identities: list[tuple[str, str]]
    name: str | None = None
    mobile: str | None = None
    email: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    original_source: str | None = None
    # H4: the drill-down of ``original_source`` (HubSpot's "integrations-sync" for customers the
    # first import of a shop created; the shop's own source name for later ones).
    original_source_detail: str | None = None


@dataclass(slots=True)
class LineRecord:
    external_id: str
    product_external_id: str | None = None
    sku_id: str | None = None
    name: str | None = None
    qty: int = 1
    unit_price: Decimal | None = None
    total: Decimal | None = None
    paid: Decimal | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RefundRecord:
    external_id: str
    amount: Decimal
    refunded_at: datetime
    reason: str | None = None


@dataclass(slots=True)
class Consignee:
    name: str | None = None
    phone: str | None = None
    country: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None


@dataclass(slots=True)
class OrderRecord:
    """An order snapshot. ``version`` orders snapshots of one order (higher is newer)."""

    source: str
    external_id: str
    status: str  # one of STATUSES
    ordered_at: datetime
    order_no: str | None = None
    platform_status: str | None = None
    updated_at: datetime | None = None
    version: int | None = None
    buyer: CustomerRecord | None = None
    lines: list[LineRecord] = field(default_factory=list)
    refunds: list[RefundRecord] = field(default_factory=list)
    amount_total: Decimal | None = None
    amount_paid: Decimal | None = None
    currency: str = "CNY"
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    sales_channel: str | None = None
    store_id: str | None = None
    store_name: str | None = None
    consignee: Consignee | None = None
    payment_no: str | None = None
    payment_method: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    # W6: an order first seen closed is stored all the same (cancelled, paid amount 0, no
    # event), for a platform whose cancelled orders a migration takes; Y7 skips it otherwise.
    take_closed: bool = False

    def effective_version(self) -> int:
        """Explicit version, else the source's update time in ms, else 0."""
        if self.version is not None:
            return self.version
        if self.updated_at is not None:
            return int(self.updated_at.timestamp() * 1000)
        return 0


@dataclass(slots=True)
class ProductRecord:
    source: str
    external_id: str
    name: str | None = None
    price: Decimal | None = None
    status: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    # Create only: a product already in the hub (same source and external id) is left
    # untouched (W2's "skip products already migrated", W7's product first met in an order).
    keep_existing: bool = False


@dataclass(slots=True)
class DeletionRecord:
    """The source deleted an object (``order`` or ``product``)."""

    source: str
    object: str
    external_id: str


# H8: the properties a deal carries (``GET /api/v1/deals`` ``properties``), with Shopify's REST
# names; a connector puts those its orders and checkouts have in their ``properties``.
DEAL_PROPERTIES = (
    "abandoned_checkout_url",
    "buyer_accepts_marketing",
    "customer_id",
    "cancel_reason",
    "cart_token",
    "cancelled_at",
    "created_at",
    "currency",
    "financial_status",
    "fulfillment_status",
    "landing_site",
    "name",
    "note",
    "order_number",
    "processing_method",
    "referring_site",
    "source_name",
    "subtotal_price",
    "taxes_included",
    "token",
    "total_discounts",
    "total_line_items_price",
    "total_price",
    "total_tax",
    "total_weight",
)


@dataclass(slots=True)
class CheckoutRecord:
    """A checkout the buyer has not completed (H6): a deal in ``checkout_abandoned`` (or
    ``checkout_pending`` while recently active) with its lines; ``completed_at`` set once it
    became an order. ``properties`` hold the H8 keys the checkout has (Shopify's REST names:
    abandoned_checkout_url, token, cart_token, ...). ``buyer`` becomes a contact (H6)."""

    source: str
    external_id: str
    created_at: datetime
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    token: str | None = None
    buyer: CustomerRecord | None = None
    lines: list[LineRecord] = field(default_factory=list)
    amount_total: Decimal | None = None
    currency: str = "CNY"
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PrivacyRecord:
    """A shop's privacy request (Shopify's compliance webhooks): ``data_request`` (report what
    the hub holds on the customer), ``customer_redact`` (erase the customer's personal data,
    keeping anonymous order facts) or ``shop_redact`` (the same for every customer of the
    store). ``customer_external_id``/``email``/``phone`` name the customer; ``orders`` the
    orders the shop asks about (external ids)."""

    source: str
    action: str  # data_request | customer_redact | shop_redact
    request_id: str | None = None
    customer_external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    orders: list[str] = field(default_factory=list)


Record = (
    CustomerRecord | OrderRecord | ProductRecord | DeletionRecord | CheckoutRecord | PrivacyRecord
)
