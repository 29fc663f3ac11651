"""The store's half of customers: writes what a :class:`hub.core.plan.customers.CustomerPlan`
holds in a few statements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from hub.core.plan.customers import (
    CUSTOMER_FIELDS,
    IDENTITY_COLUMNS,
    NEW_CUSTOMER_COLUMNS,
    CustomerPlan,
)
from hub.core.store.sql import (
    ensure_named_any_case,
    fetch_by,
    insert_returning_ids,
    insert_rows,
    link_missing,
    update_many,
)
from hub.models import Customer, CustomerTag, GroupMember, Identity, Tag, utcnow

if TYPE_CHECKING:
    from hub.core.results import IngestResult


def write_customers(session: Session, plan: CustomerPlan, result: IngestResult) -> None:
    """New customers (their ids into ``plan.ids``), changed attributes, identities, tags and
    group memberships."""
    now = utcnow()
    keys, rows = plan.new_rows(now)
    ids = insert_returning_ids(session, Customer.__table__, NEW_CUSTOMER_COLUMNS, rows)
    plan.ids.update(zip(keys, ids, strict=True))
    result.add("customers", "created", len(keys))
    if plan.updates:
        current = {
            r.id: r
            for r in fetch_by(
                session,
                Customer.__table__,
                ["id", *CUSTOMER_FIELDS],
                "id",
                plan.updates,
                workspace_id=plan.ws,
            )
        }
        updated = plan.updated_rows(current, utcnow())
        update_many(session, Customer.__table__, updated)
        result.add("customers", "updated", len(updated))
    identities = plan.identity_rows(utcnow())
    insert_rows(session, Identity.__table__, IDENTITY_COLUMNS, identities)
    result.add("identities", "created", len(identities))
    tag_ids = ensure_named_any_case(session, Tag.__table__, plan.ws, plan.tag_names())
    pairs = plan.tag_pairs(tag_ids)
    result.add("tags", "added", link_missing(session, CustomerTag.__table__, "tag_id", pairs))
    group_id = plan.options.group_id
    if group_id is not None:
        members = plan.members(group_id)
        added = link_missing(session, GroupMember.__table__, "group_id", members)
        result.add("group_members", "added", added)
    plan.touched.clear()
