"""The store's products and deletions: a batch's product records upserted, an order or product
deleted at the source deleted here (H7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.core.records import DeletionRecord, ProductRecord
from hub.core.store.sql import chunks, fetch_by, insert_rows, update_many
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
    delete_all(session, workspace_id, [rec], result)


def delete_all(
    session: Session, workspace_id: int, records: list[DeletionRecord], result: IngestResult
) -> None:
    """The orders and products ``records`` name, deleted here (H7), set-based: their ids read
    by (source, external id) a chunk at a time, then each child table cleared with one
    statement per chunk (an order's deal, events, refunds and lines go with it; a deleted
    product's lines keep their text without it). Counted as one deletion after the other
    would be: a record naming nothing stored (or named before in the batch) is
    ``delete_missing``."""
    groups: dict[tuple[str, str], list[str]] = {}
    for rec in records:
        if rec.object not in _DELETABLE:
            raise ValueError(f"cannot delete objects of kind {rec.object!r}")
        groups.setdefault((rec.object, rec.source), []).append(rec.external_id)
    for (kind, source), exts in groups.items():
        model = _DELETABLE[kind]
        found = dict(
            fetch_by(
                session,
                model.__table__,
                ["external_id", "id"],
                "external_id",
                exts,
                named=False,
                workspace_id=workspace_id,
                source=source,
            )
        )
        targets: list[int] = []
        for ext in exts:
            target = found.pop(ext, None)  # popped: a second deletion of it finds nothing
            if target is None:
                result.add(f"{kind}s", "delete_missing")
            else:
                targets.append(target)
        for part in chunks(targets):
            ids = list(part)
            if model is Order:  # its deal goes with it (H7)
                for child in (Deal, Event, OrderRefund, OrderLine):
                    session.execute(sql_delete(child).where(child.order_id.in_(ids)))
            else:
                session.execute(
                    update(OrderLine).where(OrderLine.product_id.in_(ids)).values(product_id=None)
                )
            session.execute(sql_delete(model).where(model.id.in_(ids)))
        result.add(f"{kind}s", "deleted", len(targets))


_DELETABLE: dict[str, type[Order] | type[Product]] = {"order": Order, "product": Product}
