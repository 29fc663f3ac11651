"""Order planning: what a snapshot does to the stored order and which events it records
(MISSION Y7, written once for every source). In memory; the row sets are ``hub.core.plan.rows``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.core.records import STATUSES, OrderRecord, RefundRecord

PURCHASE, RETURN, CANCEL = "purchase", "return", "cancel"
PURCHASED = frozenset({"paid", "shipped", "completed"})
RANK = {status: i for i, status in enumerate(STATUSES)}
ZERO = Decimal("0.00")


@dataclass(slots=True)
class StoredOrder:
    """What the core already holds of an order."""

    status: str
    version: int
    amount_paid: Decimal | None  # net
    refunded: Decimal
    cancelled: Decimal
    refund_ids: frozenset[str] = frozenset()
    content_hash: str | None = None


@dataclass(slots=True)
class PlannedEvent:
    type: str
    occurred_at: datetime
    amount: Decimal | None
    key: str  # unique per order and event
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    """``action``: create | update | unchanged | skip (with ``reason``)."""

    action: str
    status: str = ""
    amount_paid: Decimal | None = None
    refunded: Decimal = ZERO
    cancelled: Decimal = ZERO
    new_refunds: list[RefundRecord] = field(default_factory=list)
    events: list[PlannedEvent] = field(default_factory=list)
    reason: str | None = None
    content_hash: str | None = None


def content_hash(rec: OrderRecord) -> str | None:
    """A digest of an unversioned snapshot (no version, no update time), else None."""
    if rec.version is not None or rec.updated_at is not None:
        return None
    return hashlib.blake2b(repr(rec).encode(), digest_size=16).hexdigest()


def never_taken(stored: StoredOrder | None, rec: OrderRecord) -> bool:
    """An order first seen closed is not stored at all (Y7), unless its source takes
    cancelled orders (``take_closed``, W6)."""
    return stored is None and rec.status == "closed" and not rec.take_closed


def plan_order(stored: StoredOrder | None, rec: OrderRecord) -> Plan:
    """Decide what a snapshot does to the stored order, and which events it records.

    - first seen closed: not stored, no event (stored cancelled, without event, when the
      record says ``take_closed``);
    - first seen (or now) paid / shipped / completed: purchase event (once, at the order time);
    - each refund not seen before: return event, paid amount reduced by it;
    - closed after having been stored: cancel event, paid amount reduced to zero;
    - an older snapshot (lower version) never moves an order back (X3).
    """
    version = rec.effective_version()
    if never_taken(stored, rec):
        return Plan("skip", reason="closed before the hub first saw it: not imported")
    if stored is not None and version < stored.version:
        return Plan(
            "unchanged",
            status=stored.status,
            reason="an older copy of the order than the one kept: ignored",
        )
    status = rec.status
    if stored is not None and version == stored.version and RANK[status] < RANK[stored.status]:
        status = stored.status
    refunded = stored.refunded if stored else ZERO
    new_refunds = []
    if rec.refunds:
        known = stored.refund_ids if stored else frozenset()
        new_refunds = [r for r in _unique_refunds(rec.refunds) if r.external_id not in known]
        refunded += sum((r.amount for r in new_refunds), ZERO)
    gross = rec.amount_paid
    cancelled = stored.cancelled if stored else ZERO
    events = [_purchase(rec)] if status in PURCHASED else []
    if new_refunds:
        events += [_return(rec, r) for r in new_refunds]
    if status == "closed" and (stored is None or stored.status != "closed"):
        remaining = (gross or ZERO) - refunded
        cancelled = max(remaining, ZERO)
        if stored is not None:  # first seen closed (taken, W6): cancelled, no event
            events.append(_cancel(rec, cancelled))
    if gross is None:
        net = None
    elif refunded or cancelled:
        net = max(gross - refunded - cancelled, ZERO)
    else:  # nothing taken off (most orders): no Decimal arithmetic
        net = gross if gross >= ZERO else ZERO
    plan = Plan(
        "create" if stored is None else "update",
        status=status,
        amount_paid=net,
        refunded=refunded,
        cancelled=cancelled,
        new_refunds=new_refunds,
        events=events,
        content_hash=content_hash(rec),
    )
    if (
        stored is not None
        and version == stored.version
        and _same(stored, plan)
        and stored.content_hash == plan.content_hash
    ):
        plan.action = "unchanged"
    return plan


def _same(stored: StoredOrder, plan: Plan) -> bool:
    return (
        stored.status == plan.status
        and stored.amount_paid == plan.amount_paid
        and stored.refunded == plan.refunded
        and stored.cancelled == plan.cancelled
        and not plan.new_refunds
    )


def _unique_refunds(refunds: list[RefundRecord]) -> list[RefundRecord]:
    seen: dict[str, RefundRecord] = {}
    for refund in refunds:
        seen.setdefault(refund.external_id, refund)
    return list(seen.values())


def _purchase(rec: OrderRecord) -> PlannedEvent:
    return PlannedEvent(
        PURCHASE,
        rec.ordered_at,
        rec.amount_paid,
        "purchase",
        {"order_no": rec.order_no or rec.external_id, "lines": len(rec.lines)},
    )


def _return(rec: OrderRecord, refund: RefundRecord) -> PlannedEvent:
    return PlannedEvent(
        RETURN,
        refund.refunded_at,
        refund.amount,
        f"return:{refund.external_id}",
        {"order_no": rec.order_no or rec.external_id, "refund_id": refund.external_id},
    )


def _cancel(rec: OrderRecord, amount: Decimal) -> PlannedEvent:
    when = rec.closed_at or rec.updated_at or rec.ordered_at
    return PlannedEvent(
        CANCEL, when, amount, "cancel", {"order_no": rec.order_no or rec.external_id}
    )
