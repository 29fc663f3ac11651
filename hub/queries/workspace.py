"""A workspace's stores, tags and groups, as the pickers and the tag page list them."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.extensions import db
from hub.models import Connection, CustomerTag, Event, EventSetting, Group, GroupMember, Tag


def connection_names(workspace_id: int) -> dict[int, str]:
    rows = db.session.execute(
        select(Connection.id, Connection.name).where(Connection.workspace_id == workspace_id)
    )
    return {cid: name for cid, name in rows}


def bound_connections(workspace_id: int) -> list[Connection]:
    stmt = (
        select(Connection)
        .where(Connection.workspace_id == workspace_id)
        .order_by(Connection.bound_key.is_(None), Connection.name)
    )
    return list(db.session.scalars(stmt))


def tag_names(workspace_id: int) -> list[str]:
    """Every tag name of the workspace (suggestions for the add-tag field)."""
    stmt = select(Tag.name).where(Tag.workspace_id == workspace_id).order_by(Tag.name)
    return list(db.session.scalars(stmt))


def groups(workspace_id: int) -> list[Group]:
    stmt = select(Group).where(Group.workspace_id == workspace_id).order_by(Group.name)
    return list(db.session.scalars(stmt))


def tags_with_counts(workspace_id: int) -> list[tuple[Tag, int]]:
    stmt = (
        select(Tag, func.count(CustomerTag.customer_id))
        .outerjoin(CustomerTag, CustomerTag.tag_id == Tag.id)
        .where(Tag.workspace_id == workspace_id)
        .group_by(Tag.id)
        .order_by(Tag.name)
    )
    return [(t, n) for t, n in db.session.execute(stmt)]


def groups_with_counts(workspace_id: int) -> list[tuple[Group, int]]:
    stmt = (
        select(Group, func.count(GroupMember.customer_id))
        .outerjoin(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.workspace_id == workspace_id)
        .group_by(Group.id)
        .order_by(Group.name)
    )
    return [(g, n) for g, n in db.session.execute(stmt)]


def event_types(workspace_id: int) -> list[str]:
    """Every event type seen or configured in the workspace, sorted (Y10)."""
    seen = select(Event.type).where(Event.workspace_id == workspace_id).distinct()
    configured = select(EventSetting.event_type).where(EventSetting.workspace_id == workspace_id)
    return sorted({*db.session.scalars(seen), *db.session.scalars(configured)})


def event_settings(workspace_id: int) -> dict[str, EventSetting]:
    rows = db.session.scalars(select(EventSetting).where(EventSetting.workspace_id == workspace_id))
    return {s.event_type: s for s in rows}


def time_zone(workspace_id: int) -> str:
    """The workspace's IANA time zone name (hub.core.zones; the default when unknown)."""
    from hub.core.zones import DEFAULT_ZONE
    from hub.models import Workspace

    name = db.session.scalar(select(Workspace.time_zone).where(Workspace.id == workspace_id))
    return name or DEFAULT_ZONE
