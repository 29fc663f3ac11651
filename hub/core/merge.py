"""The merge ledger (X4): customers are merged only on request (admin or API); every merge
is recorded with what it moved, so that it can be undone exactly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.core.errors import Conflict, NotFound
from hub.core.plan.identity import DEFAULT_LIMIT, IDENTITY_LIMITS
from hub.models import (
    Customer,
    CustomerTag,
    Deal,
    Event,
    GroupMember,
    Identity,
    MergeLedger,
    Order,
    utcnow,
)

MOVABLE = (
    ("identities", Identity),
    ("orders", Order),
    ("events", Event),
    ("deals", Deal),
)


def merge(
    session: Session,
    workspace_id: int,
    keep_id: int,
    merge_id: int,
    *,
    reason: str,
    actor: str | None = None,
    limits: dict[str, int] | None = None,
) -> MergeLedger:
    """Move everything of ``merge_id`` onto ``keep_id`` and record it; refuses over-limit merges."""
    if keep_id == merge_id:
        raise Conflict("a customer cannot be merged into itself")
    keep, gone = (_customer(session, workspace_id, cid) for cid in (keep_id, merge_id))
    if keep.merged_into_id or gone.merged_into_id:
        raise Conflict("one of the customers was already merged into another")
    _check_merge_limits(session, keep_id, merge_id, {**IDENTITY_LIMITS, **(limits or {})})
    moved: dict[str, Any] = {}
    for name, model in MOVABLE:
        ids = list(session.scalars(select(model.id).where(model.customer_id == merge_id)))
        moved[name] = ids
        if ids:
            session.execute(update(model).where(model.id.in_(ids)).values(customer_id=keep_id))
    moved["tags"] = _move_links(session, CustomerTag, "tag_id", keep_id, merge_id)
    moved["groups"] = _move_links(session, GroupMember, "group_id", keep_id, merge_id)
    moved["customer"] = {
        "activity_score": gone.activity_score,
        "keep_score_before": keep.activity_score,
    }
    keep.activity_score += gone.activity_score
    gone.merged_into_id = keep_id
    entry = MergeLedger(
        workspace_id=workspace_id,
        kept_id=keep_id,
        merged_id=merge_id,
        reason=reason,
        actor=actor,
        moved=moved,
    )
    session.add(entry)
    session.commit()
    return entry


def undo_merge(session: Session, workspace_id: int, ledger_id: int) -> None:
    """Put back exactly what the merge moved."""
    entry = session.get(MergeLedger, ledger_id)
    if entry is None or entry.workspace_id != workspace_id:
        raise NotFound(f"merge {ledger_id} not found")
    if entry.undone_at is not None:
        raise Conflict("this merge was already undone")
    for name, model in MOVABLE:
        ids = entry.moved.get(name) or []
        if ids:
            session.execute(
                update(model)
                .where(model.id.in_(ids), model.customer_id == entry.kept_id)
                .values(customer_id=entry.merged_id)
            )
    _restore_links(session, CustomerTag, "tag_id", entry, entry.moved.get("tags", {}))
    _restore_links(session, GroupMember, "group_id", entry, entry.moved.get("groups", {}))
    keep = _customer(session, workspace_id, entry.kept_id)
    gone = session.get(Customer, entry.merged_id)
    assert gone is not None
    keep.activity_score -= entry.moved.get("customer", {}).get("activity_score", 0)
    gone.merged_into_id = None
    entry.undone_at = utcnow()
    session.commit()


def _customer(session: Session, workspace_id: int, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        raise NotFound(f"customer {customer_id} not found")
    return customer


def _check_merge_limits(
    session: Session, keep_id: int, merge_id: int, limits: dict[str, int]
) -> None:
    rows = session.execute(
        select(Identity.type, func.count())
        .where(Identity.customer_id.in_([keep_id, merge_id]))
        .group_by(Identity.type)
    )
    for type_, n in rows:
        limit = limits.get(type_, DEFAULT_LIMIT)
        if n > limit:
            raise Conflict(
                f"merging would give one customer {n} {type_} identities (limit {limit}); "
                "remove some first"
            )


def _move_links(session: Session, model: Any, col: str, keep_id: int, merge_id: int) -> dict:
    """Re-point link rows; remember which were moved and which were dropped as duplicates."""
    theirs = set(session.scalars(select(getattr(model, col)).where(model.customer_id == merge_id)))
    ours = set(session.scalars(select(getattr(model, col)).where(model.customer_id == keep_id)))
    session.execute(model.__table__.delete().where(model.customer_id == merge_id))
    for key in theirs - ours:
        session.add(model(customer_id=keep_id, **{col: key}))
    return {"moved": sorted(theirs - ours), "shared": sorted(theirs & ours)}


def _restore_links(session: Session, model: Any, col: str, entry: MergeLedger, info: dict) -> None:
    moved, shared = info.get("moved", []), info.get("shared", [])
    if moved:
        session.execute(
            model.__table__.delete().where(
                model.customer_id == entry.kept_id, getattr(model, col).in_(moved)
            )
        )
    for key in [*moved, *shared]:
        session.add(model(customer_id=entry.merged_id, **{col: key}))
