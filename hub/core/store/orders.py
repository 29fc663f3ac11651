"""The store's half of orders: reads what planning needs (stored orders, their lines, events
and refunds, the products lines name) and writes the row sets of ``hub.core.plan.rows``."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from hub.automation.rules import fire_for_batch
from hub.core.plan.deals import StoredDeal, order_deal_rows
from hub.core.plan.orders import Plan, StoredOrder
from hub.core.plan.rows import (
    EVENT_COLUMNS,
    LINE_FIELDS,
    NEW_ORDER_COLUMNS,
    ORDER_FIELDS,
    REFUND_COLUMNS,
    Placed,
    event_rows,
    line_rows,
    order_rows,
    order_updates,
    refund_rows,
)
from hub.core.records import OrderRecord
from hub.core.store.deals import open_checkouts, order_deals, write_deal_rows
from hub.core.store.firsts import FirstPurchases, dedupe_key
from hub.core.store.settings import apply_event_settings
from hub.core.store.sql import fetch_by, insert_returning_ids, insert_rows, update_many
from hub.models import Event, Order, OrderLine, OrderRefund, Product, utcnow

if TYPE_CHECKING:
    from hub.core.results import IngestResult

STORED_COLUMNS = [
    "id",
    "source",
    "external_id",
    "status",
    "version",
    "amount_paid",
    "refunded_amount",
    "cancelled_amount",
    "customer_id",
    "content_hash",
]


class OrderWriter:
    """Writes a batch's orders chunk by chunk: ``prepare`` reads what the batch needs from the
    database (the products its lines name, the stored orders' lines and events), ``write``
    inserts and updates one chunk's orders with their lines, refunds and events, and
    ``finish`` applies the event settings (Y10) of everything recorded. ``write`` reads
    nothing, so under :func:`hub.core.sqlite.behind.write_behind` the database works on one
    chunk while the next is planned."""

    def __init__(
        self,
        session: Session,
        workspace_id: int,
        connection_id: int | None,
        result: IngestResult,
    ) -> None:
        self.session = session
        self.ws = workspace_id
        self.head = (workspace_id, connection_id)
        self.result = result
        self.products: dict[tuple[str, str], int] = {}
        self.lines: dict[int, dict[str, int]] = defaultdict(dict)
        self.seen_events: set[str] = set()
        self.recorded: list[tuple[str, int | None]] = []
        self.keys: list[str] = []  # the dedupe keys of the events recorded, for the rules (A1)
        self.firsts = FirstPurchases(workspace_id)
        self.deals: dict[int, StoredDeal] = {}
        self.checkouts: dict[str, StoredDeal] = {}

    def prepare(self, records: list[OrderRecord], stored_ids: list[int]) -> None:
        self.products = line_products(self.session, self.ws, records)
        self.deals = order_deals(self.session, stored_ids)
        self.checkouts = open_checkouts(self.session, self.ws, records)
        for id_, order_id, ext in fetch_by(
            self.session,
            OrderLine.__table__,
            ["id", "order_id", "external_id"],
            "order_id",
            stored_ids,
        ):
            self.lines[order_id][ext] = id_
        self.seen_events = {
            key
            for (key,) in fetch_by(
                self.session,
                Event.__table__,
                ["dedupe_key"],
                "order_id",
                stored_ids,
                workspace_id=self.ws,
            )
        }

    def write(
        self,
        plans: list[tuple[OrderRecord, Plan, int | None, int | str | None]],
        customer_ids: dict[int | str, int],
    ) -> None:
        """Insert new orders and update stored ones, then their lines, refunds and events."""
        if not plans:
            return
        session, result = self.session, self.result
        now = utcnow()
        new_rows, new_plans, updated = order_rows(self.head, plans, customer_ids, now)
        columns = NEW_ORDER_COLUMNS + ORDER_FIELDS
        new_ids = insert_returning_ids(session, Order.__table__, columns, new_rows)
        update_many(session, Order.__table__, order_updates(updated, now))
        result.add("orders", "created", len(new_ids))
        result.add("orders", "updated", len(updated))
        placed: list[Placed] = [
            (rec, plan, oid, cid) for (rec, plan, cid), oid in zip(new_plans, new_ids, strict=True)
        ]
        placed += updated
        self._write_lines(placed)
        insert_rows(session, OrderRefund.__table__, REFUND_COLUMNS, refund_rows(self.ws, placed))
        self._write_events(placed, now)
        deals = order_deal_rows(self.head, placed, self.deals, self.checkouts, now)
        write_deal_rows(session, deals, result)

    def finish(self, new_customers: set[int] | None = None) -> None:
        """``new_customers``: the ids of the customers this batch created."""
        firsts = self.firsts.record(self.session, utcnow(), new_customers or set())
        if firsts:
            self.result.add("events", "first_purchase", len(firsts))
        apply_event_settings(self.session, self.ws, self.recorded + firsts)
        keys = self.keys + [dedupe_key(cid) for _, cid in firsts if cid is not None]
        fire_for_batch(self.session, self.ws, keys, utcnow())
        self.recorded, self.keys = [], []

    def _write_lines(self, placed: list[Placed]) -> None:
        inserts, updates, deletes = line_rows(self.ws, placed, self.lines, self.products.get)
        insert_rows(self.session, OrderLine.__table__, LINE_FIELDS, inserts)
        update_many(self.session, OrderLine.__table__, updates)
        if deletes:
            self.session.execute(sql_delete(OrderLine.__table__).where(OrderLine.id.in_(deletes)))
        self.result.add("lines", "created", len(inserts))
        self.result.add("lines", "updated", len(updates))
        self.result.add("lines", "deleted", len(deletes))

    def _write_events(self, placed: list[Placed], now: Any) -> None:
        """Insert the planned events not recorded before (``prepare`` read the dedupe keys of
        the stored orders' events; a new order has none)."""
        rows = event_rows(self.ws, placed, self.seen_events, now)
        insert_rows(self.session, Event.__table__, EVENT_COLUMNS, rows)
        recorded = [(row[3], row[1]) for row in rows]
        for type_, n in Counter(t for t, _ in recorded).items():
            self.result.add("events", type_, n)
        self.recorded += recorded
        self.keys += [row[8] for row in rows]
        self.firsts.note(rows)


def line_products(
    session: Session, workspace_id: int, records: list[OrderRecord]
) -> dict[tuple[str, str], int]:
    """Products named by order lines, created when missing (S6, W7)."""
    wanted: dict[tuple[str, str], str | None] = {}
    for rec in records:
        for line in rec.lines:
            if line.product_external_id:
                wanted.setdefault((rec.source, line.product_external_id), line.name)
    found: dict[tuple[str, str], int] = {}
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, ext in wanted:
        by_source[source].append(ext)
    for source, exts in by_source.items():
        for id_, ext in fetch_by(
            session,
            Product.__table__,
            ["id", "external_id"],
            "external_id",
            exts,
            workspace_id=workspace_id,
            source=source,
        ):
            found[(source, ext)] = id_
    missing = [k for k in wanted if k not in found]
    now = utcnow()
    rows: list[tuple[Any, ...]] = [
        (workspace_id, s, e, wanted[(s, e)], {}, now, now) for s, e in missing
    ]
    columns = ("workspace_id", "source", "external_id", "name", "properties")
    ids = insert_returning_ids(
        session, Product.__table__, (*columns, "created_at", "updated_at"), rows
    )
    found.update(zip(missing, ids, strict=True))
    return found


def stored_orders(
    session: Session, workspace_id: int, records: list[OrderRecord]
) -> dict[tuple[str, str], tuple[int, StoredOrder, int | None]]:
    """(id, what planning needs, customer id) of the stored orders among ``records``, by
    (source, external id)."""
    by_source: dict[str, list[str]] = {}
    for rec in records:
        by_source.setdefault(rec.source, []).append(rec.external_id)
    rows = []
    for source, ids in by_source.items():
        rows += fetch_by(session, Order.__table__, STORED_COLUMNS, "external_id", ids,
                         workspace_id=workspace_id, source=source)  # fmt: skip
    refunds: dict[int, set[str]] = {}
    columns = ["order_id", "external_id"]
    ids = [r.id for r in rows]
    for order_id, ext in fetch_by(session, OrderRefund.__table__, columns, "order_id", ids):
        refunds.setdefault(order_id, set()).add(ext)
    return {
        (r.source, r.external_id): (
            r.id,
            StoredOrder(
                r.status,
                r.version,
                r.amount_paid,
                r.refunded_amount,
                r.cancelled_amount,
                frozenset(refunds.get(r.id, ())),
                r.content_hash,
            ),
            r.customer_id,
        )
        for r in rows
    }
