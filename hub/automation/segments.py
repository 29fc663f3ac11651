"""Segments (A2): saved filters over customers, answered by one SQL query each.

A segment's members are the live (not merged-away) customers of the workspace matching its
filter now; the filter uses the vocabulary of ``hub.automation.conditions`` (customer fields
and the segment predicates ``bought``, ``did_event``, ``rfm``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, literal, select
from sqlalchemy.orm import Session

from hub.automation import clauses
from hub.automation.conditions import Condition, parse
from hub.core.errors import N_, NotFound, Refused
from hub.models import Customer, Group, GroupMember, Segment, utcnow

FILTER = "filter"
NAME_LIMIT = 100


def get(session: Session, workspace_id: int, segment_id: int) -> Segment:
    found = session.get(Segment, segment_id)
    if found is None or found.workspace_id != workspace_id:
        raise NotFound(f"segment {segment_id} not found")
    return found


def check_filter(tree: Any) -> Condition:
    """The filter validated (Refused naming ``filter...`` otherwise)."""
    if tree is None:
        raise Refused(N_("filter is required (a list of conditions, or all / any)."),
                      field=FILTER)  # fmt: skip
    return parse(tree, where=FILTER, scope="customer")


def check_name(name: Any) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > NAME_LIMIT:
        raise Refused(N_("name is required (at most %(n)s characters)."), field="name",
                      n=NAME_LIMIT)  # fmt: skip
    return text


def member_ids(
    session: Session,
    workspace_id: int,
    segment: int | Any,
    *,
    now: datetime | None = None,
) -> Select[Any]:
    """The members' customer ids: of the saved segment ``segment`` (an id), or of a filter
    tree given instead. One SQL query, whatever the filter."""
    return members(session, workspace_id, segment, now=now).with_only_columns(Customer.id)


def members(
    session: Session, workspace_id: int, segment: int | Any, *, now: datetime | None = None
) -> Select[Any]:
    """The members as Customer rows, newest first (the order of /api/v1/customers)."""
    if isinstance(segment, int) and not isinstance(segment, bool):
        tree = get(session, workspace_id, segment).filter
        cond = parse(tree, where=f"segment {segment}", scope="customer")
    else:
        cond = check_filter(segment)
    ctx = clauses.Context(workspace_id, now or utcnow(), session, population=True)
    return (
        select(Customer)
        .where(
            Customer.workspace_id == workspace_id,
            Customer.merged_into_id.is_(None),
            clauses.customer(cond, ctx, Customer.id),
        )
        .order_by(Customer.id.desc())
    )


def count(session: Session, workspace_id: int, segment: int | Any) -> int:
    """How many customers the segment (or filter) holds now."""
    ids = member_ids(session, workspace_id, segment).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(ids)) or 0


def save_as_group(session: Session, workspace_id: int, segment_id: int, name: str) -> Group:
    """A new static group holding the segment's members now (one INSERT ... SELECT)."""
    name = check_name(name)
    taken = session.scalar(
        select(Group.id).where(Group.workspace_id == workspace_id,
                               func.lower(Group.name) == name.lower())
    )  # fmt: skip
    if taken is not None:
        raise Refused(N_("A group named %(name)s already exists."), field="name", name=name)
    group = Group(workspace_id=workspace_id, name=name)
    session.add(group)
    session.flush()
    ids = member_ids(session, workspace_id, segment_id).order_by(None)
    chosen = ids.with_only_columns(Customer.id, literal(group.id))
    session.execute(insert(GroupMember).from_select(["customer_id", "group_id"], chosen))
    return group
