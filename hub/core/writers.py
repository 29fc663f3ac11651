"""The writing half of the ingest: customers, orders with lines / refunds / events, products,
deletions and cursors. Called only from ``hub.core.ingest``."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.core.events import Plan, advance_stage
from hub.core.identity import Resolution
from hub.core.normalise import InvalidValue, normalise_email, normalise_mobile
from hub.core.records import CustomerRecord, DeletionRecord, OrderRecord, ProductRecord
from hub.core.upsert import (
    ensure_named,
    fetch_by,
    insert_many,
    insert_returning_ids,
    link_missing,
    update_many,
)
from hub.models import (
    Cursor,
    Customer,
    CustomerTag,
    Event,
    EventSetting,
    GroupMember,
    Identity,
    Order,
    OrderLine,
    OrderRefund,
    Product,
    Tag,
    utcnow,
)

if TYPE_CHECKING:
    from hub.core.ingest import CursorUpdate, IngestOptions, IngestResult

CUSTOMER_FIELDS = ("name", "mobile", "email", "properties", "original_source")


def _clean_attr(kind: str, value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return normalise_mobile(value) if kind == "mobile" else normalise_email(value)
    except InvalidValue:
        return str(value).strip()


class CustomerWriter:
    """Collects customer changes of a batch and writes them in a few statements."""

    def __init__(
        self, session: Session, workspace_id: int, options: IngestOptions, result: IngestResult
    ) -> None:
        self.session = session
        self.ws = workspace_id
        self.options = options
        self.result = result
        self.ids: dict[int | str, int] = {}
        self._new: dict[str, dict[str, Any]] = {}
        self._updates: dict[int, dict[str, Any]] = {}
        self._identities: list[tuple[int | str, str, str, str | None]] = []
        self._tags: set[tuple[int | str, str]] = set()
        self._touched: set[int | str] = set()

    def take(self, res: Resolution, person: CustomerRecord, *, overwrite: bool) -> int | str:
        key = res.customer
        attrs = {
            "name": person.name,
            "mobile": _clean_attr("mobile", person.mobile),
            "email": _clean_attr("email", person.email),
            "properties": person.properties,
            "original_source": person.original_source,
        }
        if isinstance(key, str):
            row = self._new.setdefault(key, {"properties": {}})
            for name, value in attrs.items():
                if name == "properties":
                    row["properties"] = {**row["properties"], **(value or {})}
                elif value is not None and row.get(name) is None:
                    row[name] = value
        elif overwrite:
            pending = self._updates.setdefault(key, {"properties": {}})
            for name, value in attrs.items():
                if name == "properties":
                    pending["properties"].update(value or {})
                elif value is not None and (
                    name != "original_source" or self.options.original_source_policy == "all"
                ):
                    pending[name] = value
        if not isinstance(key, str):
            self.ids[key] = key
        source = person.original_source
        self._identities += [(key, t, v, source) for t, v in res.attach]
        if person.tags or self.options.tags:
            self._tags |= {(key, tag) for tag in [*person.tags, *self.options.tags] if tag}
        self._touched.add(key)
        return key

    def flush(self) -> None:
        self._insert_new()
        self._apply_updates()
        self._write_identities()
        self._write_links()
        self._touched.clear()

    def _insert_new(self) -> None:
        keys = list(self._new)
        now = utcnow()
        rows = [
            {
                "workspace_id": self.ws,
                "name": self._new[k].get("name"),
                "mobile": self._new[k].get("mobile"),
                "email": self._new[k].get("email"),
                "properties": self._new[k].get("properties") or {},
                "original_source": self._new[k].get("original_source"),
                "activity_score": 0,
                "created_at": now,
                "updated_at": now,
            }
            for k in keys
        ]
        self.ids.update(
            zip(keys, insert_returning_ids(self.session, Customer.__table__, rows), strict=True)
        )
        self.result.add("customers", "created", len(keys))
        self._new.clear()

    def _apply_updates(self) -> None:
        if not self._updates:
            return
        current = {
            r.id: r
            for r in fetch_by(
                self.session,
                Customer.__table__,
                ["id", *CUSTOMER_FIELDS],
                "id",
                self._updates,
                workspace_id=self.ws,
            )
        }
        rows = []
        for cid, pending in self._updates.items():
            self.ids[cid] = cid
            old = current[cid]
            new = {name: getattr(old, name) for name in CUSTOMER_FIELDS}
            new.update({k: v for k, v in pending.items() if k != "properties"})
            new["properties"] = {**(old.properties or {}), **pending["properties"]}
            if all(new[name] == getattr(old, name) for name in CUSTOMER_FIELDS):
                self.result.add("customers", "unchanged")
                continue
            rows.append({"id": cid, **new, "updated_at": utcnow()})
        update_many(self.session, Customer.__table__, rows)
        self.result.add("customers", "updated", len(rows))
        self._updates.clear()

    def _write_identities(self) -> None:
        now = utcnow()
        rows = [
            {
                "workspace_id": self.ws,
                "customer_id": self.ids[key],
                "type": t,
                "value": v,
                "source": source,
                "created_at": now,
            }
            for key, t, v, source in self._identities
        ]
        insert_many(self.session, Identity.__table__, rows)
        self.result.add("identities", "created", len(rows))
        self._identities.clear()

    def _write_links(self) -> None:
        tag_ids = ensure_named(self.session, Tag.__table__, self.ws, {t for _, t in self._tags})
        pairs = {(self.ids[key], tag_ids[tag.strip()]) for key, tag in self._tags}
        self.result.add(
            "tags", "added", link_missing(self.session, CustomerTag.__table__, "tag_id", pairs)
        )
        self._tags.clear()
        if self.options.group_id is not None:
            members = {(self.ids[k], self.options.group_id) for k in self._touched}
            added = link_missing(self.session, GroupMember.__table__, "group_id", members)
            self.result.add("group_members", "added", added)


# ---------------------------------------------------------------- orders


def write_orders(
    session: Session,
    workspace_id: int,
    connection_id: int | None,
    plans: list[tuple[OrderRecord, Plan, int | None, int | str | None]],
    customer_ids: dict[int | str, int],
    result: IngestResult,
) -> None:
    if not plans:
        return
    products = _line_products(session, workspace_id, [rec for rec, *_ in plans])
    now = utcnow()
    new_rows, new_plans, updates, updated_plans = [], [], [], []
    for rec, plan, order_id, key in plans:
        customer_id = None if key is None else customer_ids.get(key, key)  # type: ignore[arg-type]
        row = _order_row(rec, plan, customer_id, now)
        if order_id is None:
            new_rows.append(
                {
                    **row,
                    "workspace_id": workspace_id,
                    "connection_id": connection_id,
                    "source": rec.source,
                    "external_id": rec.external_id,
                    "created_at": now,
                }
            )
            new_plans.append((rec, plan))
        else:
            updates.append({"id": order_id, **row})
            updated_plans.append((rec, plan, order_id))
    new_ids = insert_returning_ids(session, Order.__table__, new_rows)
    update_many(session, Order.__table__, updates)
    result.add("orders", "created", len(new_ids))
    result.add("orders", "updated", len(updates))
    placed = [
        (rec, plan, oid, row["customer_id"])
        for (rec, plan), oid, row in zip(new_plans, new_ids, new_rows, strict=True)
    ]
    placed += [
        (rec, plan, oid, u["customer_id"])
        for (rec, plan, oid), u in zip(updated_plans, updates, strict=True)
    ]
    _write_lines(session, workspace_id, placed, set(new_ids), products, result)
    _write_refunds(session, workspace_id, placed)
    _write_events(session, workspace_id, placed, set(new_ids), result)


def _order_row(rec: OrderRecord, plan: Plan, customer_id: int | None, now: Any) -> dict:
    c = rec.consignee
    return {
        "order_no": rec.order_no or rec.external_id,
        "customer_id": customer_id,
        "sales_channel": rec.sales_channel,
        "store_id": rec.store_id,
        "store_name": rec.store_name,
        "platform_status": rec.platform_status,
        "status": plan.status,
        "currency": rec.currency,
        "amount_total": rec.amount_total,
        "amount_paid": plan.amount_paid,
        "refunded_amount": plan.refunded,
        "cancelled_amount": plan.cancelled,
        "ordered_at": rec.ordered_at,
        "paid_at": rec.paid_at,
        "closed_at": rec.closed_at,
        "source_updated_at": rec.updated_at,
        "version": rec.effective_version(),
        "content_hash": plan.content_hash,
        "consignee_name": c.name if c else None,
        "consignee_phone": c.phone if c else None,
        "consignee_country": c.country if c else None,
        "consignee_province": c.province if c else None,
        "consignee_city": c.city if c else None,
        "consignee_district": c.district if c else None,
        "consignee_address": c.address if c else None,
        "payment_no": rec.payment_no,
        "payment_method": rec.payment_method,
        "properties": rec.properties,
        "updated_at": now,
    }


def _line_products(
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
    rows = [
        {
            "workspace_id": workspace_id,
            "source": s,
            "external_id": e,
            "name": wanted[(s, e)],
            "properties": {},
            "created_at": now,
            "updated_at": now,
        }
        for s, e in missing
    ]
    found.update(zip(missing, insert_returning_ids(session, Product.__table__, rows), strict=True))
    return found


def _line_row(workspace_id: int, order_id: int, source: str, line: Any, products: dict) -> dict:
    return {
        "workspace_id": workspace_id,
        "order_id": order_id,
        "external_id": line.external_id,
        "product_id": products.get((source, line.product_external_id)),
        "product_external_id": line.product_external_id,
        "sku_id": line.sku_id,
        "name": line.name,
        "qty": line.qty,
        "unit_price": line.unit_price,
        "total": line.total,
        "paid": line.paid,
        "properties": line.properties,
    }


def _write_lines(
    session: Session,
    workspace_id: int,
    placed: list,
    new_ids: set[int],
    products: dict,
    result: IngestResult,
) -> None:
    existing: dict[int, dict[str, int]] = defaultdict(dict)
    old_ids = [oid for _, _, oid, _ in placed if oid not in new_ids]
    for id_, order_id, ext in fetch_by(
        session, OrderLine.__table__, ["id", "order_id", "external_id"], "order_id", old_ids
    ):
        existing[order_id][ext] = id_
    inserts, updates, deletes = [], [], []
    for rec, _plan, order_id, _cid in placed:
        have = existing.get(order_id, {})
        for line in rec.lines:
            row = _line_row(workspace_id, order_id, rec.source, line, products)
            if line.external_id in have:
                updates.append({"id": have[line.external_id], **row})
            else:
                inserts.append(row)
        if rec.lines:
            keep = {line.external_id for line in rec.lines}
            deletes += [id_ for ext, id_ in have.items() if ext not in keep]
    insert_many(session, OrderLine.__table__, inserts)
    update_many(session, OrderLine.__table__, updates)
    if deletes:
        session.execute(sql_delete(OrderLine.__table__).where(OrderLine.id.in_(deletes)))
    result.add("lines", "created", len(inserts))
    result.add("lines", "updated", len(updates))
    result.add("lines", "deleted", len(deletes))


def _write_refunds(session: Session, workspace_id: int, placed: list) -> None:
    rows = [
        {
            "workspace_id": workspace_id,
            "order_id": oid,
            "external_id": r.external_id,
            "amount": r.amount,
            "refunded_at": r.refunded_at,
            "reason": r.reason,
        }
        for _rec, plan, oid, _cid in placed
        for r in plan.new_refunds
    ]
    insert_many(session, OrderRefund.__table__, rows)


def _write_events(
    session: Session, workspace_id: int, placed: list, new_ids: set[int], result: IngestResult
) -> None:
    """Insert the planned events not recorded before. Orders created in this batch cannot
    have events yet, so only the keys of updated orders are looked up."""
    candidates: dict[str, dict[str, Any]] = {}
    lookup: list[str] = []
    now = utcnow()
    for rec, plan, oid, cid in placed:
        for ev in plan.events:
            key = f"{rec.source}:{rec.external_id}:{ev.key}"
            if oid not in new_ids:
                lookup.append(key)
            candidates[key] = {
                "workspace_id": workspace_id,
                "customer_id": cid,
                "order_id": oid,
                "type": ev.type,
                "occurred_at": ev.occurred_at,
                "amount": ev.amount,
                "source": rec.source,
                "properties": ev.properties,
                "dedupe_key": key,
                "created_at": now,
            }
    if not candidates:
        return
    seen = {
        k
        for (k,) in fetch_by(
            session,
            Event.__table__,
            ["dedupe_key"],
            "dedupe_key",
            lookup,
            workspace_id=workspace_id,
        )
    }
    rows = [row for key, row in candidates.items() if key not in seen]
    insert_many(session, Event.__table__, rows)
    for row in rows:
        result.add("events", row["type"])
    apply_event_settings(session, workspace_id, rows)


def apply_event_settings(session: Session, workspace_id: int, events: list[dict]) -> None:
    """Stage advancement and activity score of each recorded event (Y10)."""
    settings = {
        s.event_type: s
        for s in session.scalars(
            select(EventSetting).where(EventSetting.workspace_id == workspace_id)
        )
    }
    effects: dict[int, list[EventSetting]] = defaultdict(list)
    for ev in events:
        setting = settings.get(ev["type"])
        if setting and ev["customer_id"] and (setting.score_delta or setting.advance_to_stage):
            effects[ev["customer_id"]].append(setting)
    if not effects:
        return
    stages = dict(fetch_by(session, Customer.__table__, ["id", "stage"], "id", effects))
    table = Customer.__table__
    for cid, hits in effects.items():
        stage = stages.get(cid)
        for s in hits:
            stage = advance_stage(stage, s.advance_to_stage)
        delta = sum(s.score_delta for s in hits)
        session.execute(
            update(table)
            .where(table.c.id == cid)
            .values(stage=stage, activity_score=table.c.activity_score + delta)
        )


# ---------------------------------------------------------------- products, deletions, cursors


def upsert_products(
    session: Session, workspace_id: int, records: list[ProductRecord], result: IngestResult
) -> None:
    latest = {(r.source, r.external_id): r for r in records}
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
        if old is None:
            inserts.append(
                {
                    "workspace_id": workspace_id,
                    "source": rec.source,
                    "external_id": rec.external_id,
                    **values,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif any(getattr(old, k) != v for k, v in values.items()):
            updates.append({"id": old.id, **values, "updated_at": now})
        else:
            result.add("products", "unchanged")
    insert_many(session, Product.__table__, inserts)
    update_many(session, Product.__table__, updates)
    result.add("products", "created", len(inserts))
    result.add("products", "updated", len(updates))


def delete(session: Session, workspace_id: int, rec: DeletionRecord, result: IngestResult) -> None:
    """An order or product deleted at the source is deleted here (H7)."""
    model = {"order": Order, "product": Product}.get(rec.object)
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
    if model is Order:
        for child in (Event, OrderRefund, OrderLine):
            session.execute(sql_delete(child).where(child.order_id == target))
    else:
        session.execute(
            update(OrderLine).where(OrderLine.product_id == target).values(product_id=None)
        )
    session.execute(sql_delete(model).where(model.id == target))
    result.add(f"{rec.object}s", "deleted")


def save_cursor(session: Session, workspace_id: int, cursor: CursorUpdate) -> None:
    row = session.scalar(
        select(Cursor).where(
            Cursor.connection_id == cursor.connection_id, Cursor.stream == cursor.stream
        )
    )
    if row is None:
        session.add(
            Cursor(
                workspace_id=workspace_id,
                connection_id=cursor.connection_id,
                stream=cursor.stream,
                state=cursor.state,
            )
        )
    else:
        row.state = dict(cursor.state)
        row.updated_at = utcnow()
