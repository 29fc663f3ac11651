"""Customers: the one customer search, a customer's profile and timeline, the merge ledger.

The search (``CustomerFilter.q``) is what a merchant types into one box: a case-insensitive
substring of the name or the e-mail, a mobile number written any way ("+86 139-0000-1111",
"1390000", full-width digits) matched on its digits, or an identity value pasted whole (an
open id, a union id: exact, as stored, or in its normalised form)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select

from hub.core.normalise import InvalidValue, normalise_mobile
from hub.extensions import db
from hub.models import Customer, CustomerTag, Event, Group, GroupMember, Identity, MergeLedger, Tag
from hub.queries.paging import contains, in_workspace, text_arg

_PHONE = re.compile(r"[0-9０-９\s\-\u2010-\u2015\u00a0().+/·]+")
_NOT_DIGIT = re.compile(r"[^0-9]")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class CustomerFilter:
    q: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> CustomerFilter:
        """From the query argument ``q``."""
        return cls(q=text_arg(args, "q"))


def search(workspace_id: int, f: CustomerFilter) -> Select[Any]:
    """Live (not merged-away) customers matching ``f``, newest first."""
    stmt = select(Customer).where(
        Customer.workspace_id == workspace_id, Customer.merged_into_id.is_(None)
    )
    if f.q:
        stmt = stmt.where(or_(*_matches(workspace_id, f.q)))
    return stmt.order_by(Customer.id.desc())


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
