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
from hub.automation.vocabulary import Condition, parse
from hub.core.errors import N_, NotFound, Refused
from hub.models import Customer, Group, GroupMember, Rule, Segment, utcnow

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


def create(session: Session, workspace_id: int, data: dict[str, Any]) -> Segment:
    """A new segment from ``{"name", "filter"}`` (checked; nothing committed here)."""
    name = _free_name(session, workspace_id, check_name(data.get("name")), None)
    tree = data.get("filter")
    check_filter(tree)
    segment = Segment(workspace_id=workspace_id, name=name, filter=tree)
    session.add(segment)
    session.flush()
    _compiles(session, segment)
    return segment


def update(session: Session, workspace_id: int, segment_id: int, data: dict[str, Any]) -> Segment:
    """The segment with the ``name`` and / or ``filter`` given changed."""
    segment = get(session, workspace_id, segment_id)
    unknown = sorted(set(data) - {"name", "filter"})
    if unknown:
        raise Refused(N_("%(key)s cannot be changed: send name and / or filter."),
                      field=unknown[0], key=unknown[0])  # fmt: skip
    if "name" in data:
        segment.name = _free_name(session, workspace_id, check_name(data["name"]), segment.id)
    if "filter" in data:
        check_filter(data["filter"])
        segment.filter = data["filter"]
        _compiles(session, segment)
    session.flush()
    return segment


def delete(session: Session, workspace_id: int, segment_id: int) -> None:
    """Remove the segment; refused while another segment's filter or a rule's conditions
    refer to it."""
    segment = get(session, workspace_id, segment_id)
    for other in session.scalars(select(Segment).where(Segment.workspace_id == workspace_id)):
        if other.id != segment.id and segment.id in _referenced(other.filter):
            raise Refused(
                N_("Segment %(name)s uses this segment in its filter: change it first."),
                field="id", name=other.name,
            )  # fmt: skip
    for rule in session.scalars(select(Rule).where(Rule.workspace_id == workspace_id)):
        if segment.id in _referenced(rule.conditions):
            raise Refused(
                N_("Rule %(name)s uses this segment in its conditions: change it first."),
                field="id", name=rule.name,
            )  # fmt: skip
    session.delete(segment)
    session.flush()


def _free_name(session: Session, workspace_id: int, name: str, own_id: int | None) -> str:
    taken = session.scalar(
        select(Segment.id).where(Segment.workspace_id == workspace_id,
                                 func.lower(Segment.name) == name.lower())
    )  # fmt: skip
    if taken is not None and taken != own_id:
        raise Refused(N_("A segment named %(name)s already exists."), field="name", name=name)
    return name


def _compiles(session: Session, segment: Segment) -> None:
    """The saved filter's segment references exist and do not loop (Refused naming filter)."""
    cond = parse(segment.filter, where=FILTER, scope="customer")
    zone = clauses.workspace_zone(segment.workspace_id, session)
    ctx = clauses.Context(segment.workspace_id, utcnow(), session, population=True, zone=zone)
    ctx.segments = (segment.id,)
    clauses.customer(cond, ctx, Customer.id)


def _referenced(tree: Any) -> set[int]:
    """The segment ids a filter tree names."""
    if isinstance(tree, list):
        return {i for item in tree for i in _referenced(item)}
    if not isinstance(tree, dict):
        return set()
    if tree.get("field") == "segment":
        value = tree.get("value")
        values = value if isinstance(value, list) else [value]
        return {v for v in values if isinstance(v, int)}
    return {i for key in ("all", "any") for i in _referenced(tree.get(key))}


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
    zone = clauses.workspace_zone(workspace_id, session)
    ctx = clauses.Context(workspace_id, now or utcnow(), session, population=True, zone=zone)
    return (
        select(Customer)
        .where(
            Customer.workspace_id == workspace_id,
            Customer.merged_into_id.is_(None),
            clauses.customer(cond, ctx, Customer.id),
        )
        .order_by(Customer.id.desc())
    )


def count(
    session: Session, workspace_id: int, segment: int | Any, *, now: datetime | None = None
) -> int:
    """How many customers the segment (or filter) holds now."""
    ids = member_ids(session, workspace_id, segment, now=now).order_by(None).subquery()
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
