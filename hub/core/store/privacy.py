"""Privacy requests from a shop (:class:`hub.core.records.PrivacyRecord`, Shopify's compliance
webhooks), applied in the batch's transaction; each leaves a ``PrivacyRequest`` row: the audit
of what was erased (never the data itself) or, for a data request, the report of what the hub
holds on the customer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hub.automation.erasure import erase_outbox
from hub.core.forget import (
    customer_family,
    erase_customers,
    erase_deliveries,
    erase_orders,
    values_of,
    written,
)
from hub.core.normalise import InvalidValue, normalise_identity
from hub.core.records import PrivacyRecord
from hub.core.results import IngestResult
from hub.models import Customer, Event, Identity, Order, OrderLine, PrivacyRequest

# Identity types that name a person on any shop: a customer holding only these (and the
# store's own customer id) is the store's alone.
CONTACT_TYPES = ("email", "mobile", "phone")


def customer_id_type(source: str) -> str:
    """The identity type of the shop's own customer id (``shopify_customer_id``)."""
    return f"{source}_customer_id"


def apply_privacy(
    session: Session,
    workspace_id: int,
    connection_id: int | None,
    rec: PrivacyRecord,
    result: IngestResult,
) -> PrivacyRequest:
    """Do what the request asks and record it."""
    customer = find_customer(session, workspace_id, rec)
    orders = _order_ids(session, workspace_id, rec.source, rec.orders)
    entry = PrivacyRequest(
        workspace_id=workspace_id,
        connection_id=connection_id,
        source=rec.source,
        action=rec.action,
        request_id=rec.request_id,
        customer_id=customer,
        status="done" if customer is not None or orders else "not_found",
        erased={},
    )
    if rec.action == "data_request":
        entry.report = report(session, workspace_id, customer, orders)
    elif rec.action == "customer_redact":
        # the customer and every customer merged into it: the same person's data
        ids = customer_family(session, workspace_id, customer) if customer is not None else []
        owned = _orders_of(session, ids)
        named = {v for v in (rec.customer_external_id, rec.email, rec.phone) if v}
        carried = values_of(session, ids) | {v.strip() for v in named if len(v.strip()) >= 5}
        entry.erased = {**erase_customers(session, ids), **erase_orders(session, owned + orders)}
        entry.erased["earlier_reports"] = _drop_reports(session, workspace_id, ids)
        entry.erased["webhook_deliveries"] = erase_deliveries(session, workspace_id, None, carried)
        entry.erased["outbox_deliveries"] = erase_outbox(session, workspace_id, ids, carried)
    else:  # shop_redact
        entry.erased = shop_redact(session, workspace_id, connection_id, rec.source)
        if connection_id is not None:
            entry.erased["webhook_deliveries"] = erase_deliveries(
                session, workspace_id, connection_id, None
            )
        entry.status = "done"
    session.add(entry)
    session.flush()
    result.add("privacy_requests", rec.action)
    result.privacy_requests.append(entry.id)
    return entry


def _drop_reports(session: Session, workspace_id: int, customer_ids: list[int]) -> int:
    """Earlier data requests' reports on the customers hold the data erased: dropped too."""
    if not customer_ids:
        return 0
    p = PrivacyRequest.__table__.c
    return written(
        session.execute(
            PrivacyRequest.__table__.update()
            .where(
                p.workspace_id == workspace_id,
                p.customer_id.in_(customer_ids),
                p.report.is_not(None),
            )
            .values(report=None)
        )
    )


def find_customer(session: Session, workspace_id: int, rec: PrivacyRecord) -> int | None:
    """The hub's customer the request names: by the shop's customer id, else e-mail, else
    phone (an identity, or the customer's own column)."""
    wanted = []
    if rec.customer_external_id:
        wanted.append((customer_id_type(rec.source), rec.customer_external_id.strip()))
    for type_, raw in (("email", rec.email), ("mobile", rec.phone)):
        if raw:
            try:
                wanted.append((type_, normalise_identity(type_, raw)))
            except InvalidValue:
                wanted.append((type_, raw.strip()))
    if rec.phone:  # a connector may keep a phone as an identity of its own type
        wanted.append(("phone", rec.phone.strip()))
    for type_, value in wanted:
        found = session.scalar(
            select(Identity.customer_id).where(
                Identity.workspace_id == workspace_id,
                Identity.type == type_,
                Identity.value == value,
            )
        )
        if found is None and type_ in ("email", "mobile"):
            column = Customer.email if type_ == "email" else Customer.mobile
            found = session.scalar(
                select(Customer.id)
                .where(Customer.workspace_id == workspace_id, column == value)
                .order_by(Customer.id)
                .limit(1)
            )
        if found is not None:
            heir = session.scalar(select(Customer.merged_into_id).where(Customer.id == found))
            return heir or found
    return None


def _order_ids(
    session: Session, workspace_id: int, source: str, external_ids: Iterable[str]
) -> list[int]:
    wanted = sorted({str(e) for e in external_ids if e})
    if not wanted:
        return []
    return list(
        session.scalars(
            select(Order.id).where(
                Order.workspace_id == workspace_id,
                Order.source == source,
                Order.external_id.in_(wanted),
            )
        )
    )


def _orders_of(session: Session, customer_ids: list[int]) -> list[int]:
    if not customer_ids:
        return []
    return list(session.scalars(select(Order.id).where(Order.customer_id.in_(customer_ids))))


def shop_redact(
    session: Session, workspace_id: int, connection_id: int | None, source: str
) -> dict[str, Any]:
    """Erase the store's orders' personal data, and the personal data of every customer the
    store brought that no other source holds (no order from elsewhere, no identity but
    contacts and the store's own customer id); the others lose the store's customer id."""
    o = Order.__table__.c
    mine = (o.connection_id == connection_id) if connection_id is not None else (o.source == source)
    store_orders = list(session.scalars(select(o.id).where(o.workspace_id == workspace_id, mine)))
    own_type = customer_id_type(source)
    candidates = set(
        session.scalars(select(o.customer_id).where(o.workspace_id == workspace_id, mine))
    ) | set(
        session.scalars(
            select(Identity.customer_id).where(
                Identity.workspace_id == workspace_id, Identity.type == own_type
            )
        )
    )
    candidates.discard(None)
    elsewhere = set()
    if candidates:
        ids = sorted(candidates)
        elsewhere |= set(
            session.scalars(select(o.customer_id).where(o.customer_id.in_(ids), ~mine).distinct())
        )
        elsewhere |= set(
            session.scalars(
                select(Identity.customer_id).where(
                    Identity.customer_id.in_(ids),
                    Identity.type.not_in([*CONTACT_TYPES, own_type]),
                )
            )
        )
    alone = sorted(candidates - elsewhere)
    shared = sorted(candidates & elsewhere)
    outbound = erase_outbox(session, workspace_id, alone, values_of(session, alone))
    erased = {**erase_customers(session, alone), **erase_orders(session, store_orders)}
    erased["outbox_deliveries"] = outbound
    if shared:
        erased["shared_customers_unlinked"] = len(shared)
        session.execute(
            Identity.__table__.delete().where(
                and_(Identity.customer_id.in_(shared), Identity.type == own_type)
            )
        )
    erased.setdefault("customers", 0)
    return erased


def report(
    session: Session, workspace_id: int, customer_id: int | None, order_ids: list[int]
) -> dict[str, Any]:
    """What the hub holds on the customer (profile, identities, orders with lines, events),
    JSON-safe."""
    out: dict[str, Any] = {"customer": None, "identities": [], "orders": [], "events": []}
    if customer_id is not None:
        c = session.get(Customer, customer_id)
        assert c is not None
        out["customer"] = {
            "id": c.id,
            "name": c.name,
            "email": c.email,
            "mobile": c.mobile,
            "properties": c.properties or {},
            "stage": c.stage,
            "original_source": c.original_source,
            "original_source_detail": c.original_source_detail,
            "created_at": _text(c.created_at),
        }
        out["identities"] = [
            {"type": t, "value": v, "source": s}
            for t, v, s in session.execute(
                select(Identity.type, Identity.value, Identity.source)
                .where(Identity.customer_id == customer_id)
                .order_by(Identity.id)
            )
        ]
    who = [Order.customer_id == customer_id] if customer_id is not None else []
    if order_ids:
        who.append(Order.id.in_(order_ids))
    if who:
        orders = session.scalars(
            select(Order).where(Order.workspace_id == workspace_id, or_(*who)).order_by(Order.id)
        ).all()
        out["orders"] = [_order(session, order) for order in orders]
    if customer_id is not None:
        events = session.scalars(
            select(Event).where(Event.customer_id == customer_id).order_by(Event.occurred_at)
        ).all()
        out["events"] = [
            {"type": e.type, "occurred_at": _text(e.occurred_at), "amount": _text(e.amount),
             "source": e.source, "order_id": e.order_id, "properties": e.properties or {}}
            for e in events
        ]  # fmt: skip
    return out


ORDER_FIELDS = (
    "source", "external_id", "order_no", "status", "currency", "amount_total", "amount_paid",
    "ordered_at", "paid_at", "closed_at", "consignee_name", "consignee_phone",
    "consignee_country", "consignee_province", "consignee_city", "consignee_district",
    "consignee_address", "payment_no", "payment_method", "properties",
)  # fmt: skip


def _order(session: Session, order: Order) -> dict[str, Any]:
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    return {
        "id": order.id,
        **{name: _text(getattr(order, name)) for name in ORDER_FIELDS},
        "lines": [
            {"external_id": li.external_id, "product_external_id": li.product_external_id,
             "sku_id": li.sku_id, "name": li.name, "qty": li.qty,
             "unit_price": _text(li.unit_price), "total": _text(li.total)}
            for li in lines
        ],
    }  # fmt: skip


def _text(value: Any) -> Any:
    """Times ISO-8601, money as strings, the rest as it is."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and type(value).__name__ == "Decimal":
        return str(value)
    return value
