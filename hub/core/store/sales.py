"""Third-party sales volume (W5): units of a product sold on the shop it was migrated from,
kept in ``products.properties["third_party_sales"]``.

Counted from the hub's own orders, set-based: the quantities of the lines of paid, shipped
and completed orders; a cancelled or fully refunded order (closed) and an unpaid one
(pending) never count. A batch that brings orders of such a shop changes the figures of the
products its lines name at once: what the batch's orders counted before it was written
(``counted_before``) and what they count after give each product's delta, added to its
figure (``apply_batch``), so a batch costs what its own orders hold, never the product's
whole history. An order paid today counts as soon as it is in the hub, and so does an earlier
day that arrives late. A product without a figure yet, and a product the batch itself brings,
is recomputed in full (``refresh``); a daily job (``refresh`` over every product of those
sources) repairs whatever drifted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.core.records import OrderRecord, ProductRecord
from hub.core.results import IngestOptions
from hub.core.sqlite.sql import sqlite_counted
from hub.core.store.sql import chunks, fetch_by, is_sqlite, update_many
from hub.models import Order, OrderLine, Product

COUNTED = ("paid", "shipped", "completed")
KEY = "third_party_sales"
SWITCH = "show_third_party_sales"


def sold(session: Session, product_ids: Iterable[int]) -> dict[int, int]:
    """Units sold per product id (absent: none), one grouped query per chunk of ids."""
    ids = sorted(set(product_ids))
    totals: dict[int, int] = {}
    for part in chunks(ids):
        rows = session.execute(
            select(OrderLine.product_id, func.sum(OrderLine.qty))
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.product_id.in_(part), Order.status.in_(COUNTED))
            .group_by(OrderLine.product_id)
        )
        totals.update({pid: int(n or 0) for pid, n in rows if pid is not None})
    return totals


def refresh(session: Session, product_ids: Iterable[int]) -> int:
    """Recompute these products' figures; how many changed."""
    ids = sorted(set(product_ids))
    totals = sold(session, ids)
    updates: list[dict[str, Any]] = []
    for part in chunks(ids):
        for pid, properties in session.execute(
            select(Product.id, Product.properties).where(Product.id.in_(part))
        ):
            figure = totals.get(pid, 0)
            props = dict(properties or {})
            if props.get(KEY) != figure:
                updates.append({"id": pid, "properties": {**props, KEY: figure}})
    update_many(session, Product.__table__, updates)
    return len(updates)


def refresh_sources(session: Session, sources: Iterable[str]) -> int:
    """The daily reconciliation: every product of these sources, in every workspace."""
    names = sorted(set(sources))
    if not names:
        return 0
    ids = session.scalars(select(Product.id).where(Product.source.in_(names))).all()
    return refresh(session, ids)


def counted(session: Session, workspace_id: int, orders: list[OrderRecord]) -> Counter[int]:
    """Units per product id that these orders, as stored now, count (looked up by source and
    external id in chunks, on the orders' unique key; orders not stored count nothing)."""
    units: Counter[int] = Counter()
    for source in sorted({rec.source for rec in orders}):
        exts = sorted({rec.external_id for rec in orders if rec.source == source})
        if is_sqlite(session):  # on the driver: SQLAlchemy's IN expansion costs more
            units.update(sqlite_counted(session, workspace_id, source, exts, COUNTED))
            continue
        for part in chunks(exts):
            rows = session.execute(
                select(OrderLine.product_id, func.sum(OrderLine.qty))
                .join(Order, Order.id == OrderLine.order_id)
                .where(
                    Order.workspace_id == workspace_id,
                    Order.source == source,
                    Order.external_id.in_(part),
                    Order.status.in_(COUNTED),
                    OrderLine.product_id.is_not(None),
                )
                .group_by(OrderLine.product_id)
            )
            units.update({pid: int(n or 0) for pid, n in rows if pid is not None})
    return units


@contextmanager
def counting(
    session: Session,
    workspace_id: int,
    options: IngestOptions,
    products: list[ProductRecord],
    orders: list[OrderRecord],
) -> Iterator[None]:
    """Around a batch's writes (W5, when ``options.sales_volume`` and not a dry run): what
    its orders count before the block, then ``apply_batch`` after it."""
    if not options.sales_volume or options.dry_run:
        yield
        return
    before = counted(session, workspace_id, orders) if orders else Counter()
    yield
    apply_batch(session, workspace_id, products, orders, before)


def apply_batch(
    session: Session,
    workspace_id: int,
    products: list[ProductRecord],
    orders: list[OrderRecord],
    before: Counter[int],
) -> int:
    """The figures of a batch's products and of those its orders' lines name (before or after
    the batch): each figure plus the batch's delta; recomputed in full for the batch's own
    products and for a product without a figure yet. How many changed."""
    after = counted(session, workspace_id, orders) if orders else Counter()
    own = set(
        touched_products(session, workspace_id, {(r.source, r.external_id) for r in products})
    )
    named = {
        (rec.source, line.product_external_id)
        for rec in orders
        for line in rec.lines
        if line.product_external_id
    }
    ids = sorted(
        own | set(touched_products(session, workspace_id, named)) | set(before) | set(after)
    )
    if not ids:
        return 0
    figures: dict[int, tuple[dict[str, Any], int]] = {}
    full = set(own)
    for pid, properties in fetch_by(session, Product.__table__, ("id", "properties"), "id", ids):
        props = dict(properties or {})
        figure = props.get(KEY)
        if pid in full or not isinstance(figure, int):
            full.add(pid)
            figures[pid] = (props, 0)
        else:
            figures[pid] = (props, figure + after[pid] - before[pid])
    totals = sold(session, full)
    updates: list[dict[str, Any]] = []
    for pid, (props, figure) in figures.items():
        if pid in full:
            figure = totals.get(pid, 0)
        if props.get(KEY) != figure:
            updates.append({"id": pid, "properties": {**props, KEY: figure}})
    update_many(session, Product.__table__, updates)
    return len(updates)


def touched_products(session: Session, workspace_id: int, keys: set[tuple[str, str]]) -> list[int]:
    """The ids of the products named (source, external id) by a batch's order lines."""
    ids: list[int] = []
    table = Product.__table__
    for source in sorted({s for s, _ in keys}):
        exts = [e for s, e in keys if s == source]
        rows = fetch_by(session, table, ("id",), "external_id", exts, named=False,
                        workspace_id=workspace_id, source=source)  # fmt: skip
        ids += [row[0] for row in rows]
    return ids
