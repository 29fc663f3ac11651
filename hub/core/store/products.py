"""The store's products and deletions: a batch's product records upserted, an order or product
deleted at the source deleted here (H7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.core.records import DeletionRecord, ProductRecord
from hub.core.store.sql import fetch_by, insert_rows, update_many
from hub.models import Deal, Event, Order, OrderLine, OrderRefund, Product, utcnow

if TYPE_CHECKING:
    from hub.core.results import IngestResult


def upsert_products(
    session: Session, workspace_id: int, records: list[ProductRecord], result: IngestResult
) -> None:
    latest: dict[tuple[str, str], ProductRecord] = {}
    for rec in records:  # the last of a batch wins, but a create-only record never replaces
        key = (rec.source, rec.external_id)
        if not rec.keep_existing or key not in latest:
            latest[key] = rec
    found: dict[tuple[str, str], Any] = {}
    for source in {s for s, _ in latest}:
        exts = [e for s, e in latest if s == source]
        for row in fetch_by(
            session,
            Product.__table__,
            ["id", "source", "external_id", "name", "price", "status", "properties"],
            "external_id",
            exts,
            workspace_id=workspace_id,
            source=source,
        ):
            found[(row.source, row.external_id)] = row
    now = utcnow()
    inserts, updates = [], []
    for key, rec in latest.items():
        values = {
            "name": rec.name,
            "price": rec.price,
            "status": rec.status,
            "properties": rec.properties,
        }
        old = found.get(key)
        if old is not None:
            values["properties"] = merged_properties(old.properties, rec.properties)
        if old is not None and rec.keep_existing:
            result.add("products", "kept")
        elif old is None:
            inserts.append((workspace_id, rec.source, rec.external_id, *values.values(), now, now))
        elif any(getattr(old, k) != v for k, v in values.items()):
            updates.append({"id": old.id, **values, "updated_at": now})
        else:
            result.add("products", "unchanged")
    columns = ("workspace_id", "source", "external_id", "name", "price", "status", "properties")
    insert_rows(session, Product.__table__, (*columns, "created_at", "updated_at"), inserts)
    update_many(session, Product.__table__, updates)
    result.add("products", "created", len(inserts))
    result.add("products", "updated", len(updates))


# Properties the hub keeps on a product whatever its source sends (W5: the third-party sales
# figure and the switch that shows it to buyers).
HUB_PROPERTIES = ("third_party_sales", "show_third_party_sales")


def merged_properties(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A product's properties on update: the record's, with the groups it held before kept
    (W3: a group is added, never lost) and the hub's own properties kept."""
    old = old or {}
    merged = dict(new)
    for name in HUB_PROPERTIES:
        if name in old and name not in new:
            merged[name] = old[name]
    if isinstance(old.get("groups"), list) and isinstance(new.get("groups"), list):
        merged["groups"] = list(dict.fromkeys([*old["groups"], *new["groups"]]))
    return merged


def delete(session: Session, workspace_id: int, rec: DeletionRecord, result: IngestResult) -> None:
    """An order or product deleted at the source is deleted here (H7)."""
    kinds: dict[str, type[Order] | type[Product]] = {"order": Order, "product": Product}
    model = kinds.get(rec.object)
    if model is None:
        raise ValueError(f"cannot delete objects of kind {rec.object!r}")
    target = session.scalar(
        select(model.id).where(
            model.workspace_id == workspace_id,
            model.source == rec.source,
            model.external_id == rec.external_id,
        )
    )
    if target is None:
        result.add(f"{rec.object}s", "delete_missing")
        return
    if model is Order:  # its deal goes with it (H7)
        for child in (Deal, Event, OrderRefund, OrderLine):
            session.execute(sql_delete(child).where(child.order_id == target))
    else:
        session.execute(
            update(OrderLine).where(OrderLine.product_id == target).values(product_id=None)
        )
    session.execute(sql_delete(model).where(model.id == target))
    result.add(f"{rec.object}s", "deleted")
