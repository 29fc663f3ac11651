"""Customers: the one customer search, a customer's profile and timeline, the merge ledger.

The search (``CustomerFilter.q``) is what a merchant types into one box: a case-insensitive
substring of the name or the e-mail, a mobile number written any way ("+86 139-0000-1111",
"1390000", full-width digits) matched on its digits, or an identity value pasted whole (an
open id, a union id: exact, as stored, or in its normalised form).

The list's filters (issue 22.17): ``tag`` (a tag name, either case), ``group`` (a static group's
id or name), ``stage``, ``source`` (the original source's key or name, either case); ``sort``
one of SORTS, ``-`` in front for descending (default: newest first)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from hub.core.normalise import InvalidValue, normalise_mobile
from hub.core.plan.orders import PURCHASED
from hub.core.sources import unique_keys
from hub.extensions import db
from hub.models import (
    Customer,
    CustomerTag,
    Event,
    Group,
    GroupMember,
    Identity,
    MergeLedger,
    Order,
    Tag,
)
from hub.models.types import Money, UTCDateTime
from hub.queries.paging import contains, in_workspace, source_spellings, text_arg
from hub.services.customers import N_, Refused
from hub.services.parsing import as_id

_PHONE = re.compile(r"[0-9０-９\s\-\u2010-\u2015\u00a0().+/·]+")
_NOT_DIGIT = re.compile(r"[^0-9]")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


# The list's sortable columns (what the page shows): ``sort=<key>`` or ``sort=-<key>``.
SORTS: dict[str, Any] = {
    "id": Customer.id,
    "name": Customer.name,
    "email": Customer.email,
    "stage": Customer.stage,
    "score": Customer.activity_score,
    "source": Customer.original_source,
    "created": Customer.created_at,
    "updated": Customer.updated_at,
}


@dataclass(frozen=True)
class CustomerFilter:
    q: str | None = None
    tag: str | None = None
    group: str | None = None
    stage: str | None = None
    source: str | None = None
    sort: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> CustomerFilter:
        """From the query arguments ``q``, ``tag``, ``group``, ``stage``, ``source`` and
        ``sort``; ValidationFailed naming ``sort`` for a column that cannot be sorted by."""
        sort = text_arg(args, "sort")
        if sort and sort.removeprefix("-") not in SORTS:
            raise Refused(
                N_("sort must be one of %(keys)s (a leading - sorts descending), not %(got)s."),
                field="sort", keys=", ".join(SORTS), got=repr(sort),
            )  # fmt: skip
        names = ("q", "tag", "group", "stage", "source")
        return cls(**{name: text_arg(args, name) for name in names}, sort=sort)

    @property
    def filtered(self) -> bool:
        return any((self.q, self.tag, self.group, self.stage, self.source))


def search(workspace_id: int, f: CustomerFilter) -> Select[Any]:
    """Live (not merged-away) customers matching ``f``, sorted by ``f.sort`` (newest first)."""
    stmt = select(Customer).where(
        Customer.workspace_id == workspace_id, Customer.merged_into_id.is_(None)
    )
    if f.q:
        stmt = stmt.where(or_(*_matches(workspace_id, f.q)))
    for condition in _list_filters(workspace_id, f):
        stmt = stmt.where(condition)
    return stmt.order_by(*_order(f.sort))


def _list_filters(workspace_id: int, f: CustomerFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.tag:
        tagged = (
            select(CustomerTag.customer_id)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(Tag.workspace_id == workspace_id, func.lower(Tag.name) == f.tag.lower())
        )
        conditions.append(Customer.id.in_(tagged))
    if f.group:
        group_id = as_id(f.group)
        chosen = Group.id == group_id if group_id else func.lower(Group.name) == f.group.lower()
        members = (
            select(GroupMember.customer_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.workspace_id == workspace_id, chosen)
        )
        conditions.append(Customer.id.in_(members))
    if f.stage:
        conditions.append(func.lower(Customer.stage) == f.stage.lower())
    if f.source:
        conditions.append(func.lower(Customer.original_source).in_(source_spellings(f.source)))
    return conditions


def _order(sort: str | None) -> list[Any]:
    if not sort:
        return [Customer.id.desc()]
    column = SORTS[sort.removeprefix("-")]
    if sort.startswith("-"):  # blanks last either way, on SQLite as on PostgreSQL
        return [column.is_(None), column.desc(), Customer.id.desc()]
    return [column.is_(None), column, Customer.id]


EXPORT_HEADER = ("id", "name", "mobile", "email", "stage", "score", "source", "tags",
                 "created_at", "updated_at")  # fmt: skip


def export_rows(
    session: Session, workspace_id: int, f: CustomerFilter
) -> Iterator[tuple[Any, ...]]:
    """The customers ``search`` finds, one tuple per customer in EXPORT_HEADER's order, read
    from the database in batches (constant memory, whatever the number of customers)."""
    return rows_of(session, search(workspace_id, f))


def rows_of(session: Session, stmt: Select[Any]) -> Iterator[tuple[Any, ...]]:
    """The customers a ``select(Customer)`` finds, as ``export_rows`` gives them."""
    tags = (
        select(func.count(CustomerTag.tag_id))
        .where(CustomerTag.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    columns = (Customer.id, Customer.name, Customer.mobile, Customer.email, Customer.stage,
               Customer.activity_score, Customer.original_source, tags, Customer.created_at,
               Customer.updated_at)  # fmt: skip
    stmt = stmt.with_only_columns(*columns)
    batch: list[tuple[Any, ...]] = []
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        batch.append(tuple(row))
        if len(batch) == BATCH:
            yield from _with_tags(session, batch)
            batch = []
    yield from _with_tags(session, batch)


BATCH = 500


def _with_tags(session: Session, batch: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The batch with each customer's tag names (";"-separated) in place of its tag count."""
    wanted = [row[0] for row in batch if row[7]]
    names: dict[int, list[str]] = {}
    if wanted:
        rows = session.execute(
            select(CustomerTag.customer_id, Tag.name)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.customer_id.in_(wanted))
            .order_by(Tag.name)
        )
        for cid, name in rows:
            names.setdefault(cid, []).append(name)
    for row in batch:
        yield (*row[:7], "; ".join(names.get(row[0], ())), *row[8:])


def _matches(workspace_id: int, q: str) -> list[ColumnElement[bool]]:
    pattern = contains(q.lower())
    values = {q, q.lower()}
    conditions = [
        func.lower(Customer.name).like(pattern, escape="\\"),
        func.lower(Customer.email).like(pattern, escape="\\"),
    ]
    if digits := phone_digits(q):
        conditions.append(Customer.mobile.like(contains(digits), escape="\\"))
        values.add(digits)
    by_identity = select(Identity.customer_id).where(
        Identity.workspace_id == workspace_id, Identity.value.in_(sorted(values))
    )
    conditions.append(Customer.id.in_(by_identity))
    return conditions


def choices(workspace_id: int) -> dict[str, list[str]]:
    """What the list's filters offer: the stages and the original sources in use."""
    live = (Customer.workspace_id == workspace_id, Customer.merged_into_id.is_(None))
    found: dict[str, list[str]] = {}
    for key, column in (("stages", Customer.stage), ("sources", Customer.original_source)):
        values = db.session.scalars(select(column).where(*live, column.is_not(None)).distinct())
        found[key] = sorted(values, key=str.lower)
    found["sources"] = unique_keys(found["sources"])
    return found


def phone_digits(q: str) -> str | None:
    """The digits of a query written as (part of) a phone number, +86 / 0086 taken off a whole
    number; None when ``q`` is not one."""
    if not _PHONE.fullmatch(q):
        return None
    try:
        return normalise_mobile(q)
    except InvalidValue:
        return _NOT_DIGIT.sub("", q.translate(_FULL_WIDTH_DIGITS)) or None


def get(workspace_id: int, customer_id: int) -> Customer:
    return in_workspace(Customer, workspace_id, customer_id, "customer")


@dataclass
class Profile:
    identities: list[Identity]
    tags: list[Tag]
    groups: list[Group]


def profile(workspace_id: int, customer_id: int) -> Profile:
    """Identities, tags and groups of one customer of the workspace."""
    identities = select(Identity).where(
        Identity.workspace_id == workspace_id, Identity.customer_id == customer_id
    )
    tags = (
        select(Tag)
        .join(CustomerTag, CustomerTag.tag_id == Tag.id)
        .where(Tag.workspace_id == workspace_id, CustomerTag.customer_id == customer_id)
    )
    groups = (
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.workspace_id == workspace_id, GroupMember.customer_id == customer_id)
    )
    return Profile(
        list(db.session.scalars(identities.order_by(Identity.type, Identity.id))),
        list(db.session.scalars(tags.order_by(Tag.name))),
        list(db.session.scalars(groups.order_by(Group.name))),
    )


@dataclass
class Contact:
    """A customer's contact fields and properties as shown: its own values, the gaps filled
    from the customers merged into it (oldest first); ``filled`` names each filled field or
    property with the merged customer it came from."""

    name: str | None
    mobile: str | None
    email: str | None
    properties: dict[str, Any]
    filled: dict[str, int]
    merged_ids: list[int]


CONTACT_FIELDS = ("name", "mobile", "email")


def merged_into(workspace_id: int, customer_id: int) -> list[Customer]:
    """The customers merged into this one, directly or through another, oldest first."""
    found: list[Customer] = []
    frontier = [customer_id]
    while frontier:
        rows = db.session.scalars(
            select(Customer).where(
                Customer.workspace_id == workspace_id, Customer.merged_into_id.in_(frontier)
            )
        ).all()
        found += rows
        frontier = [c.id for c in rows]
    return sorted(found, key=lambda c: c.id)


def contact(workspace_id: int, customer: Customer) -> Contact:
    """The survivor's own values win; the merged customers' fill the gaps (X4: a merge moves
    no attribute, so undoing it needs nothing put back)."""
    values: dict[str, Any] = {name: getattr(customer, name) for name in CONTACT_FIELDS}
    props = dict(customer.properties or {})
    filled: dict[str, int] = {}
    merged = merged_into(workspace_id, customer.id)
    for other in merged:
        for name in CONTACT_FIELDS:
            if not values[name] and getattr(other, name):
                values[name], filled[name] = getattr(other, name), other.id
        for key, value in (other.properties or {}).items():
            if value not in (None, "") and props.get(key) in (None, ""):
                props[key], filled[f"properties.{key}"] = value, other.id
    return Contact(**values, properties=props, filled=filled, merged_ids=[c.id for c in merged])


@dataclass(frozen=True)
class Facts:
    """A customer's purchases (paid, shipped or completed orders): the first one's time, how
    many, and the total paid net of refunds."""

    first_order_at: datetime | None = None
    order_count: int = 0
    total_spent: Decimal = Decimal("0.00")


NO_FACTS = Facts()


def facts(workspace_id: int, customer_ids: Iterable[int]) -> dict[int, Facts]:
    """Facts of each customer given (a page of them), in one aggregate query on
    ix_orders_customer; a customer without purchases is absent (use ``NO_FACTS``)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            Order.customer_id,
            type_coerce(func.min(Order.ordered_at), UTCDateTime()),
            func.count(),
            type_coerce(func.coalesce(func.sum(Order.amount_paid), 0), Money()),
        )
        .where(
            Order.workspace_id == workspace_id,
            Order.customer_id.in_(ids),
            Order.status.in_(sorted(PURCHASED)),
        )
        .group_by(Order.customer_id)
    )
    return {cid: Facts(first, n, total) for cid, first, n, total in rows}


def timeline(workspace_id: int, customer_id: int) -> Select[Any]:
    """The customer's events, newest first (Y9)."""
    return (
        select(Event)
        .where(Event.workspace_id == workspace_id, Event.customer_id == customer_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
    )


def group_members(workspace_id: int, group_id: int) -> Select[Any]:
    """The customers of one static group, oldest first."""
    return (
        select(Customer)
        .join(GroupMember, GroupMember.customer_id == Customer.id)
        .where(GroupMember.group_id == group_id, Customer.workspace_id == workspace_id)
        .order_by(Customer.id)
    )


def names(workspace_id: int, ids: set[int]) -> dict[int, str]:
    """A label per customer id: the name, else the mobile, the e-mail or "#id"."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Customer.id, Customer.name, Customer.mobile, Customer.email).where(
            Customer.workspace_id == workspace_id, Customer.id.in_(ids)
        )
    )
    return {cid: name or mobile or email or f"#{cid}" for cid, name, mobile, email in rows}


def merges(workspace_id: int) -> Select[Any]:
    """The merge ledger, newest first (X4)."""
    return (
        select(MergeLedger)
        .where(MergeLedger.workspace_id == workspace_id)
        .order_by(MergeLedger.id.desc())
    )
