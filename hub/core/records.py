"""Canonical records: the contract between connectors (and imports) and the core.

Connectors map platform payloads to these, either by building the dataclasses directly in a
pure mapping function or by loading a dict through the marshmallow schemas below (which
validate and return the same dataclasses). Money is Decimal, time is timezone-aware, and
platform ids are strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

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


@dataclass(slots=True)
class DeletionRecord:
    """The source deleted an object (``order`` or ``product``)."""

    source: str
    object: str
    external_id: str


Record = CustomerRecord | OrderRecord | ProductRecord | DeletionRecord


# ---------------------------------------------------------------- marshmallow schemas


class AwareDateTime(fields.AwareDateTime):
    """ISO-8601 with an offset; a naive time is an error, not a guess."""


class _Base(Schema):
    class Meta:
        ordered = True


class IdentitySchema(_Base):
    type = fields.String(required=True, validate=validate.Length(min=1, max=40))
    value = fields.String(required=True, validate=validate.Length(min=1, max=320))


class CustomerSchema(_Base):
    identities = fields.List(fields.Nested(IdentitySchema), load_default=list)
    name = fields.String(allow_none=True, load_default=None)
    mobile = fields.String(allow_none=True, load_default=None)
    email = fields.String(allow_none=True, load_default=None)
    properties = fields.Dict(load_default=dict)
    tags = fields.List(fields.String(), load_default=list)
    original_source = fields.String(allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> CustomerRecord:
        data["identities"] = [(i["type"], i["value"]) for i in data["identities"]]
        return CustomerRecord(**data)


class LineSchema(_Base):
    external_id = fields.String(required=True)
    product_external_id = fields.String(allow_none=True, load_default=None)
    sku_id = fields.String(allow_none=True, load_default=None)
    name = fields.String(allow_none=True, load_default=None)
    qty = fields.Integer(load_default=1, validate=validate.Range(min=0))
    unit_price = fields.Decimal(allow_none=True, load_default=None, allow_nan=False)
    total = fields.Decimal(allow_none=True, load_default=None, allow_nan=False)
    paid = fields.Decimal(allow_none=True, load_default=None, allow_nan=False)
    properties = fields.Dict(load_default=dict)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> LineRecord:
        return LineRecord(**data)


class RefundSchema(_Base):
    external_id = fields.String(required=True)
    amount = fields.Decimal(required=True, allow_nan=False, validate=validate.Range(min=0))
    refunded_at = AwareDateTime(required=True)
    reason = fields.String(allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> RefundRecord:
        return RefundRecord(**data)


class ConsigneeSchema(_Base):
    name = fields.String(allow_none=True, load_default=None)
    phone = fields.String(allow_none=True, load_default=None)
    country = fields.String(allow_none=True, load_default=None)
    province = fields.String(allow_none=True, load_default=None)
    city = fields.String(allow_none=True, load_default=None)
    district = fields.String(allow_none=True, load_default=None)
    address = fields.String(allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Consignee:
        return Consignee(**data)


class OrderSchema(_Base):
    source = fields.String(required=True)
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    ordered_at = AwareDateTime(required=True)
    order_no = fields.String(allow_none=True, load_default=None)
    platform_status = fields.String(allow_none=True, load_default=None)
    updated_at = AwareDateTime(allow_none=True, load_default=None)
    version = fields.Integer(allow_none=True, load_default=None)
    buyer = fields.Nested(CustomerSchema, allow_none=True, load_default=None)
    lines = fields.List(fields.Nested(LineSchema), load_default=list)
    refunds = fields.List(fields.Nested(RefundSchema), load_default=list)
    amount_total = fields.Decimal(allow_none=True, load_default=None, allow_nan=False)
    amount_paid = fields.Decimal(allow_none=True, load_default=None, allow_nan=False)
    currency = fields.String(load_default="CNY", validate=validate.Length(equal=3))
    paid_at = AwareDateTime(allow_none=True, load_default=None)
    closed_at = AwareDateTime(allow_none=True, load_default=None)
    sales_channel = fields.String(allow_none=True, load_default=None)
    store_id = fields.String(allow_none=True, load_default=None)
    store_name = fields.String(allow_none=True, load_default=None)
    consignee = fields.Nested(ConsigneeSchema, allow_none=True, load_default=None)
    payment_no = fields.String(allow_none=True, load_default=None)
    payment_method = fields.String(allow_none=True, load_default=None)
    properties = fields.Dict(load_default=dict)

    @validates_schema
    def _unique_lines(self, data: dict[str, Any], **_: Any) -> None:
        ids = [line.external_id for line in data.get("lines", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("line external_id values repeat within one order", "lines")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> OrderRecord:
        return OrderRecord(**data)


class ProductSchema(_Base):
    source = fields.String(required=True)
    external_id = fields.String(required=True)
    name = fields.String(allow_none=True, load_default=None)
    price = fields.Decimal(allow_none=True, load_default=None, allow_nan=False)
    status = fields.String(allow_none=True, load_default=None)
    properties = fields.Dict(load_default=dict)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> ProductRecord:
        return ProductRecord(**data)


order_schema = OrderSchema()
