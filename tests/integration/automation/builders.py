"""Rows for the automation tests, written straight into the database (customers, orders,
lines, events, tags, groups, identities)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from hub.extensions import db
from hub.models import (
    Customer,
    CustomerTag,
    Event,
    Group,
    GroupMember,
    Identity,
    Order,
    OrderLine,
    Tag,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_serial = count(1)


def customer(ws: int, name: str, **values: Any) -> Customer:
    c = Customer(workspace_id=ws, name=name, **values)
    db.session.add(c)
    db.session.flush()
    return c


def order(
    ws: int,
    c: Customer | None,
    *,
    days_ago: float = 1,
    paid: str = "100.00",
    status: str = "paid",
    source: str = "youzan",
    lines: list[dict[str, Any]] | None = None,
    event: str | None = "purchase",
    **values: Any,
) -> Order:
    n = next(_serial)
    when = NOW - timedelta(days=days_ago)
    o = Order(
        workspace_id=ws, source=source, external_id=f"o{n}", order_no=f"N{n}",
        customer_id=c.id if c else None, status=status, amount_total=Decimal(paid),
        amount_paid=Decimal(paid), ordered_at=when, **values,
    )  # fmt: skip
    db.session.add(o)
    db.session.flush()
    for i, line in enumerate(lines or []):
        db.session.add(OrderLine(workspace_id=ws, order_id=o.id, external_id=f"l{i}", **line))
    if event:
        db.session.add(
            Event(
                workspace_id=ws, customer_id=c.id if c else None, order_id=o.id, type=event,
                occurred_at=when, amount=Decimal(paid), source=source,
                dedupe_key=f"{event}:{n}",
            )
        )  # fmt: skip
    db.session.flush()
    return o


def event(ws: int, c: Customer, type_: str, *, days_ago: float = 1, **values: Any) -> Event:
    n = next(_serial)
    e = Event(
        workspace_id=ws, customer_id=c.id, type=type_, occurred_at=NOW - timedelta(days=days_ago),
        dedupe_key=f"{type_}:x{n}", **values,
    )  # fmt: skip
    db.session.add(e)
    db.session.flush()
    return e


def tag(ws: int, c: Customer, name: str) -> None:
    t = db.session.query(Tag).filter_by(workspace_id=ws, name=name).one_or_none()
    if t is None:
        t = Tag(workspace_id=ws, name=name)
        db.session.add(t)
        db.session.flush()
    db.session.add(CustomerTag(customer_id=c.id, tag_id=t.id))
    db.session.flush()


def group(ws: int, name: str, *members: Customer) -> Group:
    g = Group(workspace_id=ws, name=name)
    db.session.add(g)
    db.session.flush()
    for c in members:
        db.session.add(GroupMember(group_id=g.id, customer_id=c.id))
    db.session.flush()
    return g


def identity(ws: int, c: Customer, type_: str, value: str) -> None:
    db.session.add(Identity(workspace_id=ws, customer_id=c.id, type=type_, value=value))
    db.session.flush()
