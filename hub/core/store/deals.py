"""The store's half of deals (H5, H6): reads the stored deals planning needs and writes the row
sets of ``hub.core.plan.deals`` — an order's deal in the same transaction as its order, a
checkout's deal with its ``checkout_abandoned`` event."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.plan.deals import (
    DEAL_COLUMNS,
    DealRows,
    StoredDeal,
    abandoned_event_rows,
    checkout_deal_rows,
    checkout_token,
)
from hub.core.plan.rows import EVENT_COLUMNS
from hub.core.plan.stages import ABANDONED, PENDING, PENDING_WINDOW
from hub.core.records import CheckoutRecord, OrderRecord
from hub.core.store.settings import apply_event_settings
from hub.core.store.sql import fetch_by, insert_rows, update_many
from hub.models import Deal, Event, utcnow

if TYPE_CHECKING:
    from hub.core.results import IngestResult


def order_deals(session: Session, order_ids: list[int]) -> dict[int, StoredDeal]:
    """The deals of stored orders, by order id."""
    rows = fetch_by(session, Deal.__table__, ["order_id", "id", "stage", "version"], "order_id",
                    order_ids, named=False)  # fmt: skip
    return {oid: StoredDeal(id_, stage, version) for oid, id_, stage, version in rows}


def open_checkouts(
    session: Session, workspace_id: int, records: list[OrderRecord]
) -> dict[str, StoredDeal]:
    """The checkout deals the orders' ``checkout_token`` name (a new order takes one over)."""
    tokens = [
        str(t) for rec in records if rec.properties and (t := rec.properties.get("checkout_token"))
    ]
    if not tokens:
        return {}
    rows = fetch_by(session, Deal.__table__, ["checkout_token", "id", "stage", "version"],
                    "checkout_token", tokens, named=False, workspace_id=workspace_id,
                    kind="checkout")  # fmt: skip
    return {token: StoredDeal(id_, stage, version) for token, id_, stage, version in rows}


def write_deal_rows(session: Session, rows: DealRows, result: IngestResult) -> None:
    insert_rows(session, Deal.__table__, DEAL_COLUMNS, rows.inserts)
    update_many(session, Deal.__table__, rows.updates)
    update_many(session, Deal.__table__, rows.takeovers)
    result.add("deals", "created", len(rows.inserts))
    result.add("deals", "updated", len(rows.updates))
    if rows.takeovers:
        result.add("deals", "checkout_completed", len(rows.takeovers))


def write_checkouts(
    session: Session,
    head: tuple[int, int | None],
    checkouts: list[tuple[CheckoutRecord, int | None]],
    result: IngestResult,
) -> list[tuple[str, int | None]]:
    """Upsert the checkouts' deals and record a ``checkout_abandoned`` event once per abandoned
    checkout; returns the (event type, customer id) recorded, for the event settings (Y10). A
    checkout whose token an order's deal already carries became that order: nothing to do."""
    ws = head[0]
    by_source: dict[str, list[str]] = defaultdict(list)
    for rec, _ in checkouts:
        by_source[rec.source].append(rec.external_id)
    stored: dict[tuple[str, str], StoredDeal] = {}
    for source, exts in by_source.items():
        found = fetch_by(session, Deal.__table__, ["external_id", "id", "stage", "version"],
                         "external_id", exts, named=False, workspace_id=ws, source=source,
                         kind="checkout")  # fmt: skip
        stored.update({(source, e): StoredDeal(i, s, v) for e, i, s, v in found})
    tokens = [t for rec, _ in checkouts if (t := checkout_token(rec))]
    done = {
        token
        for (token,) in fetch_by(session, Deal.__table__, ["checkout_token"], "checkout_token",
                                 tokens, named=False, workspace_id=ws, kind="order")
    }  # fmt: skip
    live = [(rec, cid) for rec, cid in checkouts if checkout_token(rec) not in done]
    if len(live) < len(checkouts):
        result.add("checkouts", "completed_before", len(checkouts) - len(live))
    now = utcnow()
    rows, abandoned = checkout_deal_rows(head, live, stored, now)
    aged = age_pending_checkouts(session, ws, now, result)
    write_deal_rows(session, rows, result)
    return aged + _record_abandoned(session, ws, abandoned, now, result)


def age_pending_checkouts(
    session: Session, workspace_id: int, now: datetime, result: IngestResult | None = None
) -> list[tuple[str, int | None]]:
    """Checkouts left pending longer than ``PENDING_WINDOW`` are abandoned (H6): their deals
    move on and their ``checkout_abandoned`` event is recorded (once). Run with every batch of
    checkouts of the workspace."""
    table = Deal.__table__
    stale = session.execute(
        select(table.c.id, table.c.source, table.c.external_id, table.c.customer_id,
               table.c.amount, table.c.stage_at, table.c.line_items, table.c.properties)
        .where(table.c.workspace_id == workspace_id, table.c.stage == PENDING,
               table.c.kind == "checkout", table.c.stage_at < now - PENDING_WINDOW)
    ).all()  # fmt: skip
    if not stale:
        return []
    update_many(session, table, [{"id": r.id, "stage": ABANDONED, "updated_at": now}
                                 for r in stale])  # fmt: skip
    gone = [(_StaleCheckout(r), r.customer_id) for r in stale]
    return _record_abandoned(session, workspace_id, gone, now, result)  # type: ignore[arg-type]


def age_all_pending(session: Session, now: datetime | None = None) -> int:
    """:func:`age_pending_checkouts` in every workspace with a stale pending checkout (the
    workers' maintenance pass runs it, so a checkout nobody touches again still becomes
    abandoned), with the event settings (Y10) of the events recorded; commits. How many
    events were recorded."""
    now = now or utcnow()
    table = Deal.__table__
    stale = select(table.c.workspace_id).where(
        table.c.stage == PENDING, table.c.kind == "checkout",
        table.c.stage_at < now - PENDING_WINDOW,
    ).distinct()  # fmt: skip
    recorded = 0
    for ws in session.scalars(stale).all():
        events = age_pending_checkouts(session, ws, now)
        apply_event_settings(session, ws, events)
        recorded += len(events)
    session.commit()
    return recorded


class _StaleCheckout:
    """A stored pending checkout in the shape ``abandoned_event_rows`` reads."""

    def __init__(self, row: Any) -> None:
        self.source, self.external_id = row.source, row.external_id
        self.updated_at = self.created_at = row.stage_at
        self.amount_total = row.amount
        self.lines = row.line_items or []
        self.properties = row.properties or {}


def _record_abandoned(
    session: Session,
    ws: int,
    abandoned: list[tuple[CheckoutRecord, int | None]],
    now: datetime,
    result: IngestResult | None,
) -> list[tuple[str, int | None]]:
    if not abandoned:
        return []
    keys = [f"{rec.source}:checkout:{rec.external_id}:abandoned" for rec, _ in abandoned]
    seen = {
        key
        for (key,) in fetch_by(session, Event.__table__, ["dedupe_key"], "dedupe_key", keys,
                               named=False, workspace_id=ws)
    }  # fmt: skip
    events = abandoned_event_rows(ws, abandoned, seen, now)
    insert_rows(session, Event.__table__, EVENT_COLUMNS, events)
    if events and result is not None:
        result.add("events", "checkout_abandoned", len(events))
    return [(row[3], row[1]) for row in events]
