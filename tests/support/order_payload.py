"""The canonical order as JSON, loaded into ``hub.core.records`` dataclasses by marshmallow
schemas: the body of the test connector ``fake_push``'s webhooks. (The hub's connectors build
the dataclasses in pure mapping functions; ``hub.core.checks`` validates them in ``apply``.)"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from hub.core.records import (
    STATUSES,
    Consignee,
    CustomerRecord,
    LineRecord,
    OrderRecord,
    RefundRecord,
)


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


order_schema = OrderSchema()
