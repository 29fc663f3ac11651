"""Read-side queries of the admin pages, every one scoped to a workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from hub.extensions import db
from hub.models import (
    Connection,
    Customer,
    CustomerTag,
    Event,
    Group,
    GroupMember,
    Identity,
    MergeLedger,
    Order,
    Product,
    SyncRun,
    Tag,
    WebhookDelivery,
)


def recent_runs(ws: int, connection_id: int | None = None, limit: int | None = None) -> Any:
    stmt = runs_stmt(ws, connection_id)
    return list(db.session.scalars(stmt.limit(limit))) if limit else stmt


def runs_stmt(ws: int, connection_id: int | None = None) -> Select[Any]:
    stmt = select(SyncRun).where(SyncRun.workspace_id == ws)
    if connection_id:
        stmt = stmt.where(SyncRun.connection_id == connection_id)
    return stmt.order_by(SyncRun.id.desc())


def connection_names(ws: int) -> dict[int, str]:
    rows = db.session.execute(
        select(Connection.id, Connection.name).where(Connection.workspace_id == ws)
    )
    return {cid: name for cid, name in rows}


def bound_connections(ws: int) -> list[Connection]:
    return list(
        db.session.scalars(
            select(Connection)
            .where(Connection.workspace_id == ws)
            .order_by(Connection.bound_key.is_(None), Connection.name)
        )
    )


def inbox_stmt(ws: int, connection_id: int | None = None, status: str | None = None) -> Select:
    stmt = select(WebhookDelivery).where(WebhookDelivery.workspace_id == ws)
    if connection_id:
        stmt = stmt.where(WebhookDelivery.connection_id == connection_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt.order_by(WebhookDelivery.id.desc())


def customers_stmt(ws: int, q: str | None = None) -> Select[Any]:
    """Live customers matching ``q`` by name, mobile, email or any identity value."""
    stmt = select(Customer).where(Customer.workspace_id == ws, Customer.merged_into_id.is_(None))
    q = (q or "").strip()
    if q:
        digits = "".join(c for c in q if c.isdigit())
        by_identity = select(Identity.customer_id).where(
            Identity.workspace_id == ws, Identity.value.in_({q, q.lower(), digits[-11:] or q})
        )
        conditions = [
            func.lower(Customer.name).contains(q.lower(), autoescape=True),
            func.lower(Customer.email) == q.lower(),
            Customer.id.in_(by_identity),
        ]
        if len(digits) >= 4:
            conditions.append(Customer.mobile.contains(digits[-11:], autoescape=True))
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(Customer.updated_at.desc(), Customer.id.desc())


def customer_identities(customer_id: int) -> list[Identity]:
    stmt = select(Identity).where(Identity.customer_id == customer_id).order_by(Identity.type)
    return list(db.session.scalars(stmt))


def customer_tags(customer_id: int) -> list[Tag]:
    stmt = (
        select(Tag)
        .join(CustomerTag, CustomerTag.tag_id == Tag.id)
        .where(CustomerTag.customer_id == customer_id)
        .order_by(Tag.name)
    )
    return list(db.session.scalars(stmt))


def tag_names(ws: int) -> list[str]:
    """Every tag name of the workspace (suggestions for the add-tag field)."""
    stmt = select(Tag.name).where(Tag.workspace_id == ws).order_by(Tag.name)
    return list(db.session.scalars(stmt))


def workspace_groups(ws: int) -> list[Group]:
    stmt = select(Group).where(Group.workspace_id == ws).order_by(Group.name)
    return list(db.session.scalars(stmt))


def customer_groups(customer_id: int) -> list[Group]:
    stmt = (
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.customer_id == customer_id)
        .order_by(Group.name)
    )
    return list(db.session.scalars(stmt))


def timeline_stmt(ws: int, customer_id: int) -> Select[Any]:
    return (
        select(Event)
        .where(Event.workspace_id == ws, Event.customer_id == customer_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
    )


def orders_stmt(ws: int, f: dict[str, Any]) -> Select[Any]:
    """S1 filters: order no, status, order time range, store; plus source / sales channel."""
    stmt = select(Order).where(Order.workspace_id == ws)
    if f.get("order_no"):
        stmt = stmt.where(Order.order_no.contains(f["order_no"].strip(), autoescape=True))
    if f.get("status"):
        stmt = stmt.where(Order.status == f["status"])
    if f.get("since"):
        stmt = stmt.where(Order.ordered_at >= f["since"])
    if f.get("until"):
        stmt = stmt.where(Order.ordered_at <= f["until"])
    if f.get("store"):
        stmt = stmt.where(or_(Order.store_name == f["store"], Order.store_id == f["store"]))
    if f.get("connection_id"):
        stmt = stmt.where(Order.connection_id == f["connection_id"])
    if f.get("source"):
        stmt = stmt.where(or_(Order.source == f["source"], Order.sales_channel == f["source"]))
    if f.get("customer_id"):
        stmt = stmt.where(Order.customer_id == f["customer_id"])
    return stmt.order_by(Order.ordered_at.desc(), Order.id.desc())


def order_sources(ws: int) -> list[str]:
    """Distinct sources and sales channels, e.g. "WeChat Mini Shop" (W6)."""
    values: set[str] = set()
    for col in (Order.source, Order.sales_channel):
        values.update(
            v
            for v in db.session.scalars(select(col).where(Order.workspace_id == ws).distinct())
            if v
        )
    return sorted(values)


def order_stores(ws: int) -> list[str]:
    stmt = select(Order.store_name).where(Order.workspace_id == ws).distinct()
    return sorted(v for v in db.session.scalars(stmt) if v)


def order_events(ws: int, order_id: int) -> list[Event]:
    stmt = select(Event).where(Event.workspace_id == ws, Event.order_id == order_id)
    return list(db.session.scalars(stmt.order_by(Event.occurred_at, Event.id)))


def products_stmt(ws: int, q: str | None = None, source: str | None = None) -> Select[Any]:
    stmt = select(Product).where(Product.workspace_id == ws)
    if q:
        stmt = stmt.where(
            or_(
                func.lower(Product.name).contains(q.strip().lower(), autoescape=True),
                Product.external_id == q.strip(),
            )
        )
    if source:
        stmt = stmt.where(Product.source == source)
    return stmt.order_by(Product.name, Product.id)


def tags_with_counts(ws: int) -> list[tuple[Tag, int]]:
    stmt = (
        select(Tag, func.count(CustomerTag.customer_id))
        .outerjoin(CustomerTag, CustomerTag.tag_id == Tag.id)
        .where(Tag.workspace_id == ws)
        .group_by(Tag.id)
        .order_by(Tag.name)
    )
    return [(t, n) for t, n in db.session.execute(stmt)]


def groups_with_counts(ws: int) -> list[tuple[Group, int]]:
    stmt = (
        select(Group, func.count(GroupMember.customer_id))
        .outerjoin(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.workspace_id == ws)
        .group_by(Group.id)
        .order_by(Group.name)
    )
    return [(g, n) for g, n in db.session.execute(stmt)]


def merges_stmt(ws: int) -> Select[Any]:
    return select(MergeLedger).where(MergeLedger.workspace_id == ws).order_by(MergeLedger.id.desc())


def customer_names(ws: int, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(Customer.id, Customer.name, Customer.mobile, Customer.email).where(
            Customer.workspace_id == ws, Customer.id.in_(ids)
        )
    )
    return {cid: name or mobile or email or f"#{cid}" for cid, name, mobile, email in rows}


def last_event_at(ws: int, customer_id: int) -> datetime | None:
    stmt = select(func.max(Event.occurred_at)).where(
        Event.workspace_id == ws, Event.customer_id == customer_id
    )
    return db.session.scalar(stmt)
