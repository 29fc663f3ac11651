"""Deal stages of the ecommerce pipeline (H5, H6, PLATFORMS.md §5): pure functions.

Shopify orders (their ``properties`` hold the REST fields), first match wins:

1. ``cancelled_at`` set, or ``financial_status`` refunded / voided → ``cancelled``;
2. ``fulfillment_status`` fulfilled → ``shipped`` (also when partially refunded);
3. ``financial_status`` paid / partially_refunded → ``processed`` (also when partially
   fulfilled);
4. ``financial_status`` pending / authorized / partially_paid → ``checkout_completed``.

An order of any other source (or a Shopify order none of the rules above decides, e.g.
``expired``) takes the cross-platform analogue from the hub's normalised status: pending
(unpaid) → checkout_completed, paid → processed, shipped / completed → shipped, closed →
cancelled.

A checkout: ``completed_at`` set → checkout_completed; active (updated, else created) within
``PENDING_WINDOW`` before it is taken → checkout_pending; else checkout_abandoned (H6).

Forward only (X3, :func:`forward`): a snapshot older than the one a deal's stage came from
never moves it (the order planner already ignores such an order snapshot; a checkout's is
compared here by version). A newer one moves a deal along the pipeline, never back: shipped
stays shipped when a later snapshot says only "paid" (a fulfilment cancelled). ``cancelled``
is reachable from every stage (an order refunded in full after shipping is cancelled) and is
terminal: nothing moves a cancelled deal. checkout_abandoned and checkout_pending are one step
(a pending checkout is one recently active): the newer snapshot decides between them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hub.core.records import DEAL_PROPERTIES

ABANDONED, PENDING, COMPLETED = "checkout_abandoned", "checkout_pending", "checkout_completed"
PROCESSED, SHIPPED, CANCELLED = "processed", "shipped", "cancelled"

# The pipeline's stages in their order (PLATFORMS.md §5; the Deal model takes them from here).
STAGES = (ABANDONED, PENDING, COMPLETED, PROCESSED, SHIPPED, CANCELLED)

# A checkout active within the last hour is "pending", an older one "abandoned".
PENDING_WINDOW = timedelta(hours=1)

# The pipeline's steps: abandoned and pending share the first.
RANK = {
    ABANDONED: 0,
    PENDING: 0,
    COMPLETED: 1,
    PROCESSED: 2,
    SHIPPED: 3,
    CANCELLED: 4,
}
assert set(RANK) == set(STAGES)

# The deal properties of H8 (hub.core.records.DEAL_PROPERTIES).
H8_KEYS = frozenset(DEAL_PROPERTIES)

# The cross-platform analogue: the hub's normalised order status → stage.
STATUS_STAGES = {
    "pending": COMPLETED,
    "paid": PROCESSED,
    "shipped": SHIPPED,
    "completed": SHIPPED,
    "closed": CANCELLED,
}


def shopify_stage(properties: dict[str, Any]) -> str | None:
    """The stage Shopify's order fields decide (rules 1–4), or None when none matches."""
    financial = properties.get("financial_status")
    if properties.get("cancelled_at") or financial in ("refunded", "voided"):
        return CANCELLED
    if properties.get("fulfillment_status") == "fulfilled":
        return SHIPPED
    if financial in ("paid", "partially_refunded"):
        return PROCESSED
    if financial in ("pending", "authorized", "partially_paid"):
        return COMPLETED
    return None


def order_stage(status: str, properties: dict[str, Any]) -> str:
    """An order's stage: Shopify's rules when its properties carry them, else the analogue of
    the normalised ``status``."""
    if "financial_status" in properties or "cancelled_at" in properties:
        stage = shopify_stage(properties)
        if stage is not None:
            return stage
    return STATUS_STAGES[status]


def checkout_stage(completed_at: datetime | None, active_at: datetime, now: datetime) -> str:
    """A checkout's stage: completed, pending (active within ``PENDING_WINDOW`` of ``now``) or
    abandoned."""
    if completed_at is not None:
        return COMPLETED
    return PENDING if now - active_at < PENDING_WINDOW else ABANDONED


def forward(stored: str | None, new: str) -> str:
    """The stage a deal at ``stored`` takes from a snapshot no older than the stored one's."""
    if stored is None:
        return new
    if stored == CANCELLED:
        return CANCELLED
    return new if RANK[new] >= RANK[stored] else stored


def deal_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """The H8 keys among a record's properties (a copy, in the record's order). The keys to
    leave out are found by one set difference and the rest copied at C speed: a Shopify order
    has its 25 H8 keys and at most one other, so a comprehension testing each key cost twice
    as much."""
    extra = properties.keys() - H8_KEYS
    if not extra:
        return dict(properties)
    if len(extra) * 2 > len(properties):
        return {k: v for k, v in properties.items() if k in H8_KEYS}
    kept = dict(properties)
    for key in extra:
        del kept[key]
    return kept
