"""JSON shapes of the API: money as strings, times ISO-8601 with offset, platform ids strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.models import (
    Customer,
    Deal,
    Event,
    Identity,
    Order,
    OrderLine,
    OrderRefund,
    PrivacyRequest,
    Product,
    SyncRun,
)
from hub.queries.customers import NO_FACTS, Contact, Facts, Profile
from hub.queries.orders import Details
from hub.services import product_sales


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """Datetimes and Decimals of a flat dict made JSON-safe."""
    return {
        k: when(v) if isinstance(v, datetime) else money(v) if isinstance(v, Decimal) else v
        for k, v in values.items()
    }


def customer(c: Customer, facts: Facts | None = None) -> dict[str, Any]:
    """With ``facts`` (``hub.queries.customers.facts``): first order, order count, total spent;
    ``created_at`` stays the hub's record date."""
    f = facts or NO_FACTS
    return {
        "id": c.id,
        "name": c.name,
        "mobile": c.mobile,
        "email": c.email,
        "stage": c.stage,
        "activity_score": c.activity_score,
        "original_source": c.original_source,
        "original_source_detail": c.original_source_detail,
        "merged_into_id": c.merged_into_id,
        "created_at": when(c.created_at),
        "updated_at": when(c.updated_at),
        "first_order_at": when(f.first_order_at),
        "order_count": f.order_count,
        "total_spent": money(f.total_spent),
    }


def identity(i: Identity) -> dict[str, Any]:
    return {"type": i.type, "value": i.value, "source": i.source}


def customer_detail(
    c: Customer, profile: Profile, contact: Contact | None = None, facts: Facts | None = None
) -> dict[str, Any]:
    """With ``contact`` (``hub.queries.customers.contact``) the merged customers' values fill
    the gaps of name, mobile, email and properties; ``merged_from`` lists them."""
    out = {**customer(c, facts), "properties": c.properties or {}}
    if contact is not None:
        out.update(
            name=contact.name,
            mobile=contact.mobile,
            email=contact.email,
            properties=contact.properties,
            merged_from=contact.merged_ids,
        )
    return {
        **out,
        "identities": [identity(i) for i in profile.identities],
        "tags": [t.name for t in profile.tags],
        "groups": [{"id": g.id, "name": g.name} for g in profile.groups],
    }


def event(e: Event) -> dict[str, Any]:
    return {
        "id": e.id,
        "type": e.type,
        "occurred_at": when(e.occurred_at),
        "amount": money(e.amount),
        "customer_id": e.customer_id,
        "order_id": e.order_id,
        "source": e.source,
        "properties": e.properties or {},
    }


def order(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "order_no": o.order_no,
        "external_id": o.external_id,
        "source": o.source,
        "sales_channel": o.sales_channel,
        "connection_id": o.connection_id,
        "store_id": o.store_id,
        "store_name": o.store_name,
        "status": o.status,
        "platform_status": o.platform_status,
        "customer_id": o.customer_id,
        "currency": o.currency,
        "amount_total": money(o.amount_total),
        "amount_paid": money(o.amount_paid),
        "refunded_amount": money(o.refunded_amount),
        "cancelled_amount": money(o.cancelled_amount),
        "ordered_at": when(o.ordered_at),
        "paid_at": when(o.paid_at),
        "closed_at": when(o.closed_at),
        "updated_at": when(o.source_updated_at),
    }


def line(li: OrderLine) -> dict[str, Any]:
    return {
        "id": li.id,
        "external_id": li.external_id,
        "product_id": li.product_id,
        "product_external_id": li.product_external_id,
        "sku_id": li.sku_id,
        "name": li.name,
        "qty": li.qty,
        "unit_price": money(li.unit_price),
        "total": money(li.total),
        "paid": money(li.paid),
    }


def refund(r: OrderRefund) -> dict[str, Any]:
    return {
        "external_id": r.external_id,
        "amount": money(r.amount),
        "refunded_at": when(r.refunded_at),
        "reason": r.reason,
    }


def order_detail(o: Order, details: Details) -> dict[str, Any]:
    consignee = {
        "name": o.consignee_name,
        "phone": o.consignee_phone,
        "country": o.consignee_country,
        "province": o.consignee_province,
        "city": o.consignee_city,
        "district": o.consignee_district,
        "address": o.consignee_address,
    }
    return {
        **order(o),
        "consignee": consignee,
        "payment_no": o.payment_no,
        "payment_method": o.payment_method,
        "properties": o.properties or {},
        "lines": [line(li) for li in details.lines],
        "refunds": [refund(r) for r in details.refunds],
        "events": [event(e) for e in details.events],
        "shipments": list(o.shipments or []),
    }


def product(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "source": p.source,
        "external_id": p.external_id,
        "name": p.name,
        "price": money(p.price),
        "status": p.status,
        "properties": product_sales.properties(p),
        "updated_at": when(p.updated_at),
    }


def deal(d: Deal, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A deal of the ecommerce pipeline: exactly the fields issue 23 names."""
    return {
        "id": d.id,
        "external_id": d.external_id,
        "name": d.name,
        "stage": d.stage,
        "amount": money(d.amount),
        "currency": d.currency,
        "customer_id": d.customer_id,
        "order_id": d.order_id,
        "properties": d.properties or {},
        "line_items": lines if lines is not None else list(d.line_items or []),
    }


def sync_run(r: SyncRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "connection_id": r.connection_id,
        "status": r.status,
        "full": r.full,
        "trigger": r.trigger,
        "attempts": r.attempts,
        "progress": {"done": r.progress_done, "total": r.progress_total},
        "counts": r.counts or {},
        "api_calls": r.api_calls,
        "error": ({"class": r.error_class, "message": r.error_message} if r.error_class else None),
        "requested_at": when(r.requested_at),
        "started_at": when(r.started_at),
        "heartbeat_at": when(r.heartbeat_at),
        "finished_at": when(r.finished_at),
    }


def privacy_request(r: PrivacyRequest) -> dict[str, Any]:
    """A privacy request and what was done (``erased`` names fields and counts, no data)."""
    return {
        "id": r.id,
        "source": r.source,
        "connection_id": r.connection_id,
        "action": r.action,
        "request_id": r.request_id,
        "customer_id": r.customer_id,
        "status": r.status,
        "erased": r.erased or {},
        "has_report": r.report is not None,
        "created_at": when(r.created_at),
    }
