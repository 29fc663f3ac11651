"""Customers, their identities, tags, static groups, and the merge ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Model
from hub.models.types import UTCDateTime, utcnow


class Customer(Model):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_ws_mobile", "workspace_id", "mobile"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Queries by workspace use ix_customers_ws_mobile, which leads with it.
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stage: Mapped[str | None] = mapped_column(String(40))
    activity_score: Mapped[int] = mapped_column(default=0)
    original_source: Mapped[str | None] = mapped_column(String(100))
    # H4: the drill-down of original_source; the first value set is kept.
    original_source_detail: Mapped[str | None] = mapped_column(String(100))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Identity(Model):
    """One identity value of one customer; a value belongs to one customer per workspace."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "type", "value"),
        # Covers identity resolution's lookup (the owner of each value) without reading the
        # row: 40% less time for the lookups of a batch (bench/ingest.py). SQLite only: on
        # PostgreSQL the unique key's index (same leading columns) answers the lookup, and a
        # fresh table's rows are read anyway until vacuum marks its pages all-visible, so the
        # copy would only cost every insert one more index entry.
        Index("ix_identities_owner", "workspace_id", "type", "value", "customer_id").ddl_if(
            dialect="sqlite"
        ),
        Index("ix_identities_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(320))
    source: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(Model):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(100))


# 22.5: a tag is one whatever its case ("VIP", "vip", "Vip"), per workspace.
Index("ux_tags_workspace_name_any_case", Tag.workspace_id, func.lower(Tag.name), unique=True)


class CustomerTag(Model):
    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)


class Group(Model):
    """A static group of customers."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupMember(Model):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)


class IdentityType(Model):
    """Custom identity types and properties must exist before an import maps to them (I2)."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(20))  # identity | property
    name: Mapped[str] = mapped_column(String(100))
    label: Mapped[str | None] = mapped_column(String(200))


class MergeLedger(Model):
    """Every merge, with enough of what moved to undo it (X4)."""

    __tablename__ = "merge_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(String(200))
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
