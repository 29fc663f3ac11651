"""Read-side queries shared by the JSON API and the UI. Every query is scoped to a workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, or_, select

from hub.core.errors import NotFound, ValidationFailed
from hub.extensions import db
from hub.models import (
    STATUSES,
    Customer,
    CustomerTag,
    Event,
    Group,
    GroupMember,
    Identity,
    Order,
    OrderLine,
    OrderRefund,
    Product,
    SyncRun,
    Tag,
)
from hub.services import parsing

T = TypeVar("T")


@dataclass
class Paged(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int


def paginate(query: Select, page: int, per_page: int) -> Paged:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Paged(list(items), page, per_page, total or 0)


# ------------------------------------------------------------------ customers


def search_customers(workspace_id: int, q: str | None, page: int, per_page: int) -> Paged:
    """Live (not merged-away) customers whose name, mobile, e-mail or an identity matches q."""
    query = select(Customer).where(
        Customer.workspace_id == workspace_id, Customer.merged_into_id.is_(None)
    )
    if q and q.strip():
        like = f"%{_escape_like(q.strip().lower())}%"
        by_identity = select(Identity.customer_id).where(
            Identity.workspace_id == workspace_id,
            func.lower(Identity.value).like(like, escape="\\"),
        )
        query = query.where(
            or_(
                func.lower(Customer.name).like(like, escape="\\"),
                Customer.mobile.like(like, escape="\\"),
                func.lower(Customer.email).like(like, escape="\\"),
                Customer.id.in_(by_identity),
            )
        )
    return paginate(query.order_by(Customer.id.desc()), page, per_page)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_customer(workspace_id: int, customer_id: int) -> Customer:
    customer = db.session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.workspace_id == workspace_id)
    )
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


def customer_profile(workspace_id: int, customer: Customer) -> dict[str, Any]:
    """Identities, tags and groups of one customer."""
    identities = db.session.scalars(
        select(Identity)
        .where(Identity.workspace_id == workspace_id, Identity.customer_id == customer.id)
        .order_by(Identity.id)
    ).all()
    tags = db.session.scalars(
        select(Tag.name)
        .join(CustomerTag, CustomerTag.tag_id == Tag.id)
        .where(Tag.workspace_id == workspace_id, CustomerTag.customer_id == customer.id)
        .order_by(Tag.name)
    ).all()
    groups = db.session.execute(
        select(Group.id, Group.name)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.workspace_id == workspace_id, GroupMember.customer_id == customer.id)
        .order_by(Group.name)
    ).all()
    return {"identities": list(identities), "tags": list(tags), "groups": list(groups)}


def customer_timeline(workspace_id: int, customer_id: int, page: int, per_page: int) -> Paged:
    get_customer(workspace_id, customer_id)
    query = (
        select(Event)
        .where(Event.workspace_id == workspace_id, Event.customer_id == customer_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
    )
    return paginate(query, page, per_page)


def customer_orders(workspace_id: int, customer_id: int, page: int, per_page: int) -> Paged:
    get_customer(workspace_id, customer_id)
    query = (
        select(Order)
        .where(Order.workspace_id == workspace_id, Order.customer_id == customer_id)
        .order_by(Order.ordered_at.desc(), Order.id.desc())
    )
    return paginate(query, page, per_page)


# ------------------------------------------------------------------ orders (S1)


@dataclass
class OrderFilters:
    order_no: str | None = None
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    store: str | None = None
    source: str | None = None
    customer_id: int | None = None

    @classmethod
    def from_args(cls, args: Any) -> OrderFilters:
        """From query arguments: order_no, status, from, to, store, source."""
        status = (args.get("status") or "").strip() or None
        for one in (status or "").split(","):
            if one and one not in STATUSES:
                raise ValidationFailed(
                    f"status must be one of {', '.join(STATUSES)}, not {one!r}", field="status"
                )
        return cls(
            order_no=(args.get("order_no") or "").strip() or None,
            status=status,
            start=parsing.moment(args.get("from"), "from"),
            end=parsing.moment(args.get("to"), "to", end=True),
            store=(args.get("store") or "").strip() or None,
            source=(args.get("source") or "").strip() or None,
        )


def list_orders(workspace_id: int, filters: OrderFilters, page: int, per_page: int) -> Paged:
    """Orders newest first, filtered as in S1 (order no, status, time range, store, source)."""
    query = select(Order).where(Order.workspace_id == workspace_id)
    f = filters
    if f.order_no:
        query = query.where(or_(Order.order_no == f.order_no, Order.external_id == f.order_no))
    if f.status:
        query = query.where(Order.status.in_(f.status.split(",")))
    if f.start:
        query = query.where(Order.ordered_at >= f.start)
    if f.end:
        query = query.where(Order.ordered_at <= f.end)
    if f.store:
        query = query.where(_store_clause(f.store))
    if f.source:
        src = f.source.lower()
        query = query.where(
            or_(func.lower(Order.source) == src, func.lower(Order.sales_channel) == src)
        )
    if f.customer_id:
        query = query.where(Order.customer_id == f.customer_id)
    return paginate(query.order_by(Order.ordered_at.desc(), Order.id.desc()), page, per_page)


def _store_clause(store: str):
    """A platform store id, or a connection id (digits) of this workspace."""
    clauses = [Order.store_id == store, Order.store_name == store]
    if (connection_id := parsing.as_id(store)) is not None:
        clauses.append(Order.connection_id == connection_id)
    return or_(*clauses)


def get_order(workspace_id: int, order_id: int) -> Order:
    order = db.session.scalar(
        select(Order).where(Order.id == order_id, Order.workspace_id == workspace_id)
    )
    if order is None:
        raise NotFound(f"order {order_id} not found")
    return order


def order_details(workspace_id: int, order: Order) -> dict[str, list]:
    """Lines, refunds and events of one order."""
    scope = {"workspace_id": workspace_id, "order_id": order.id}
    lines = db.session.scalars(select(OrderLine).filter_by(**scope).order_by(OrderLine.id)).all()
    refunds = db.session.scalars(
        select(OrderRefund).filter_by(**scope).order_by(OrderRefund.refunded_at)
    ).all()
    events = db.session.scalars(
        select(Event).filter_by(**scope).order_by(Event.occurred_at, Event.id)
    ).all()
    return {"lines": list(lines), "refunds": list(refunds), "events": list(events)}


# ------------------------------------------------------------------ products and syncs


def list_products(
    workspace_id: int, q: str | None, source: str | None, page: int, per_page: int
) -> Paged:
    query = select(Product).where(Product.workspace_id == workspace_id)
    if q and q.strip():
        like = f"%{_escape_like(q.strip().lower())}%"
        query = query.where(
            or_(func.lower(Product.name).like(like, escape="\\"), Product.external_id == q.strip())
        )
    if source:
        query = query.where(Product.source == source)
    return paginate(query.order_by(Product.id.desc()), page, per_page)


def list_syncs(
    workspace_id: int,
    page: int,
    per_page: int,
    connection_id: int | None = None,
    status: str | None = None,
) -> Paged:
    query = select(SyncRun).where(SyncRun.workspace_id == workspace_id)
    if connection_id:
        query = query.where(SyncRun.connection_id == connection_id)
    if status:
        query = query.where(SyncRun.status == status)
    return paginate(query.order_by(SyncRun.id.desc()), page, per_page)


def get_sync(workspace_id: int, run_id: int) -> SyncRun:
    run = db.session.scalar(
        select(SyncRun).where(SyncRun.id == run_id, SyncRun.workspace_id == workspace_id)
    )
    if run is None:
        raise NotFound(f"sync {run_id} not found")
    return run
