"""Third-party sales volume (W5): units of a product sold on the shop it was migrated from,
kept in ``products.properties["third_party_sales"]``.

Counted from the hub's own orders, set-based: the quantities of the lines of paid, shipped
and completed orders; a cancelled or fully refunded order (closed) and an unpaid one
(pending) never count. A batch that brings orders of such a shop recomputes the products its
lines name at once (``refresh`` with their ids): an order paid today counts as soon as it is
in the hub, and so does an earlier day that arrives late. A daily job (``refresh`` over every
product of those sources) repairs whatever drifted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.core.records import OrderRecord, ProductRecord
from hub.core.store.sql import chunks, update_many
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


def refresh_batch(
    session: Session, workspace_id: int, products: list[ProductRecord], orders: list[OrderRecord]
) -> None:
    """The figures of a batch's products and of those its orders' lines name."""
    keys = {(rec.source, rec.external_id) for rec in products}
    keys |= {
        (rec.source, line.product_external_id)
        for rec in orders
        for line in rec.lines
        if line.product_external_id
    }
    if keys:
        refresh(session, touched_products(session, workspace_id, keys))


def touched_products(session: Session, workspace_id: int, keys: set[tuple[str, str]]) -> list[int]:
    """The ids of the products named (source, external id) by a batch's order lines."""
    ids: list[int] = []
    for source in {s for s, _ in keys}:
        exts = sorted(e for s, e in keys if s == source)
        for part in chunks(exts):
            ids += session.scalars(
                select(Product.id).where(
                    Product.workspace_id == workspace_id,
                    Product.source == source,
                    Product.external_id.in_(part),
                )
            ).all()
    return ids
