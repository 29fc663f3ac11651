"""The writing half of the ingest: customers, orders with lines / refunds / events, products,
deletions and cursors. Called only from ``hub.core.ingest``."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from hub.core import postgres
from hub.core.events import Plan, advance_stage
from hub.core.identity import Resolution
from hub.core.normalise import InvalidValue, normalise_email, normalise_mobile
from hub.core.records import CustomerRecord, DeletionRecord, OrderRecord, ProductRecord
from hub.core.upsert import (
    ensure_named,
    executemany_raw,
    fetch_by,
    insert_returning_ids,
    insert_rows,
    is_postgres,
    is_sqlite,
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
from hub.models.types import sqlite_utc_text

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


def _attrs(person: CustomerRecord) -> dict[str, Any]:
    """A record's customer attributes, keyed by CUSTOMER_FIELDS."""
    return {
        "name": person.name,
        "mobile": _clean_attr("mobile", person.mobile),
        "email": _clean_attr("email", person.email),
        "properties": dict(person.properties or {}),
        "original_source": person.original_source,
    }


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
        """Record what ``person`` adds to its customer; an existing customer's attributes are
        changed only with ``overwrite`` (a customer import), never by an order's buyer."""
        key = res.customer
        if isinstance(key, str) and key in self.ids:  # created by an earlier chunk's flush
            key = self.ids[key]
        if isinstance(key, str):
            row = self._new.get(key)
            if row is None:
                self._new[key] = _attrs(person)
            else:
                for name, value in _attrs(person).items():
                    if name == "properties":
                        row["properties"] = {**row["properties"], **value}
                    elif value is not None and row[name] is None:
                        row[name] = value
        else:
            self.ids[key] = key
            if overwrite:
                pending = self._updates.setdefault(key, {"properties": {}})
                for name, value in _attrs(person).items():
                    if name == "properties":
                        pending["properties"].update(value)
                    elif value is not None and (
                        name != "original_source" or self.options.original_source_policy == "all"
                    ):
                        pending[name] = value
        if res.attach:
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
            (self.ws, *(new[name] for name in CUSTOMER_FIELDS), 0, now, now)
            for new in self._new.values()
        ]
        columns = ("workspace_id", *CUSTOMER_FIELDS, "activity_score", "created_at", "updated_at")
        ids = insert_returning_ids(self.session, Customer.__table__, columns, rows)
        self.ids.update(zip(keys, ids, strict=True))
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
        ids = self.ids
        rows = [(self.ws, ids[key], t, v, source, now) for key, t, v, source in self._identities]
        columns = ("workspace_id", "customer_id", "type", "value", "source", "created_at")
        insert_rows(self.session, Identity.__table__, columns, rows)
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

# What a snapshot sets on an order, new or stored (in the order of ``_order_values``).
ORDER_FIELDS = (
    "order_no",
    "customer_id",
    "sales_channel",
    "store_id",
    "store_name",
    "platform_status",
    "status",
    "currency",
    "amount_total",
    "amount_paid",
    "refunded_amount",
    "cancelled_amount",
    "ordered_at",
    "paid_at",
    "closed_at",
    "source_updated_at",
    "version",
    "content_hash",
    "consignee_name",
    "consignee_phone",
    "consignee_country",
    "consignee_province",
    "consignee_city",
    "consignee_district",
    "consignee_address",
    "payment_no",
    "payment_method",
    "properties",
    "updated_at",
)
NEW_ORDER_COLUMNS = ("workspace_id", "connection_id", "source", "external_id", "created_at")
LINE_FIELDS = (
    "workspace_id",
    "order_id",
    "external_id",
    "product_id",
    "product_external_id",
    "sku_id",
    "name",
    "qty",
    "unit_price",
    "total",
    "paid",
    "properties",
)
EVENT_COLUMNS = (
    "workspace_id",
    "customer_id",
    "order_id",
    "type",
    "occurred_at",
    "amount",
    "source",
    "properties",
    "dedupe_key",
    "created_at",
)
REFUND_COLUMNS = ("workspace_id", "order_id", "external_id", "amount", "refunded_at", "reason")
_NO_CONSIGNEE = (None,) * 7


class OrderWriter:
    """Writes a batch's orders chunk by chunk: ``prepare`` reads what the batch needs from the
    database (the products its lines name, the stored orders' lines and events), ``write``
    inserts and updates one chunk's orders with their lines, refunds and events, and
    ``finish`` applies the event settings (Y10) of everything recorded. ``write`` reads
    nothing, so under :func:`hub.core.upsert.write_behind` the database works on one chunk
    while the next is planned. Rows are tuples in the order of the column lists above."""

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

    def prepare(self, records: list[OrderRecord], stored_ids: list[int]) -> None:
        self.products = _line_products(self.session, self.ws, records)
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
        new_rows, new_plans, updates, updated = [], [], [], []
        head = self.head
        for rec, plan, order_id, key in plans:
            customer_id = None if key is None else customer_ids.get(key, key)
            values = _order_values(rec, plan, customer_id, now)
            if order_id is None:
                new_rows.append((*head, rec.source, rec.external_id, now, *values))
                new_plans.append((rec, plan, customer_id))
            else:
                updates.append({"id": order_id, **dict(zip(ORDER_FIELDS, values, strict=True))})
                updated.append((rec, plan, order_id, customer_id))
        columns = NEW_ORDER_COLUMNS + ORDER_FIELDS
        new_ids = insert_returning_ids(session, Order.__table__, columns, new_rows)
        update_many(session, Order.__table__, updates)
        result.add("orders", "created", len(new_ids))
        result.add("orders", "updated", len(updates))
        placed = [
            (rec, plan, oid, cid) for (rec, plan, cid), oid in zip(new_plans, new_ids, strict=True)
        ]
        placed += updated
        self._write_lines(placed)
        _write_refunds(session, self.ws, placed)
        self._write_events(placed)

    def finish(self) -> None:
        apply_event_settings(self.session, self.ws, self.recorded)
        self.recorded = []

    def _write_lines(self, placed: list) -> None:
        """Lines of new orders are inserted; a stored order's lines are matched by external id
        (updated, inserted, and deleted when the snapshot no longer has them)."""
        workspace_id, existing = self.ws, self.lines
        inserts, updates, deletes = [], [], []
        product_of = self.products.get
        for rec, _plan, order_id, _cid in placed:
            have = existing.get(order_id)
            source = rec.source
            for line in rec.lines:
                row = (
                    workspace_id,
                    order_id,
                    line.external_id,
                    product_of((source, line.product_external_id)),
                    line.product_external_id,
                    line.sku_id,
                    line.name,
                    line.qty,
                    line.unit_price,
                    line.total,
                    line.paid,
                    line.properties,
                )
                if have and line.external_id in have:
                    values = dict(zip(LINE_FIELDS, row, strict=True))
                    updates.append({"id": have[line.external_id], **values})
                else:
                    inserts.append(row)
            if have and rec.lines:
                keep = {line.external_id for line in rec.lines}
                deletes += [id_ for ext, id_ in have.items() if ext not in keep]
        insert_rows(self.session, OrderLine.__table__, LINE_FIELDS, inserts)
        update_many(self.session, OrderLine.__table__, updates)
        if deletes:
            self.session.execute(sql_delete(OrderLine.__table__).where(OrderLine.id.in_(deletes)))
        self.result.add("lines", "created", len(inserts))
        self.result.add("lines", "updated", len(updates))
        self.result.add("lines", "deleted", len(deletes))

    def _write_events(self, placed: list) -> None:
        """Insert the planned events not recorded before (``prepare`` read the dedupe keys of
        the stored orders' events; a new order has none)."""
        rows = []
        seen = self.seen_events
        now = utcnow()
        workspace_id = self.ws
        for rec, plan, oid, cid in placed:
            prefix = f"{rec.source}:{rec.external_id}:"
            for ev in plan.events:
                key = prefix + ev.key
                if key in seen:
                    continue
                seen.add(key)
                rows.append(
                    (
                        workspace_id,
                        cid,
                        oid,
                        ev.type,
                        ev.occurred_at,
                        ev.amount,
                        rec.source,
                        ev.properties,
                        key,
                        now,
                    )
                )
        insert_rows(self.session, Event.__table__, EVENT_COLUMNS, rows)
        recorded = [(row[3], row[1]) for row in rows]
        for type_, n in Counter(t for t, _ in recorded).items():
            self.result.add("events", type_, n)
        self.recorded += recorded


def _order_values(rec: OrderRecord, plan: Plan, customer_id: int | None, now: Any) -> tuple:
    c = rec.consignee
    consignee = (
        _NO_CONSIGNEE
        if c is None
        else (c.name, c.phone, c.country, c.province, c.city, c.district, c.address)
    )
    return (
        rec.order_no or rec.external_id,
        customer_id,
        rec.sales_channel,
        rec.store_id,
        rec.store_name,
        rec.platform_status,
        plan.status,
        rec.currency,
        rec.amount_total,
        plan.amount_paid,
        plan.refunded,
        plan.cancelled,
        rec.ordered_at,
        rec.paid_at,
        rec.closed_at,
        rec.updated_at,
        rec.effective_version(),
        plan.content_hash,
        *consignee,
        rec.payment_no,
        rec.payment_method,
        rec.properties,
        now,
    )


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
    rows = [(workspace_id, s, e, wanted[(s, e)], {}, now, now) for s, e in missing]
    columns = ("workspace_id", "source", "external_id", "name", "properties")
    ids = insert_returning_ids(
        session, Product.__table__, (*columns, "created_at", "updated_at"), rows
    )
    found.update(zip(missing, ids, strict=True))
    return found


def _write_refunds(session: Session, workspace_id: int, placed: list) -> None:
    rows = [
        (workspace_id, oid, r.external_id, r.amount, r.refunded_at, r.reason)
        for _rec, plan, oid, _cid in placed
        for r in plan.new_refunds
    ]
    insert_rows(session, OrderRefund.__table__, REFUND_COLUMNS, rows)


def apply_event_settings(
    session: Session, workspace_id: int, events: list[tuple[str, int | None]]
) -> None:
    """Stage advancement and activity score of each recorded event (Y10), given as
    (event type, customer id) pairs."""
    settings = {
        s.event_type: s
        for s in session.scalars(
            select(EventSetting).where(EventSetting.workspace_id == workspace_id)
        )
        if s.score_delta or s.advance_to_stage
    }
    if not settings:
        return
    effects: dict[int, list[EventSetting]] = defaultdict(list)
    for type_, customer_id in events:
        setting = settings.get(type_)
        if setting and customer_id:
            effects[customer_id].append(setting)
    if not effects:
        return
    stages = dict(fetch_by(session, Customer.__table__, ["id", "stage"], "id", effects))
    changes = []
    for cid, hits in effects.items():
        stage = stages.get(cid)
        for s in hits:
            stage = advance_stage(stage, s.advance_to_stage)
        changes.append((stage, sum(s.score_delta for s in hits), cid))
    # One executemany for the batch, not one UPDATE per customer; on SQLite on the driver's
    # cursor, as insert_rows does; on PostgreSQL one statement.
    now = utcnow()
    if is_sqlite(session):
        stamp = sqlite_utc_text(now)
        rows = [(stage, delta, stamp, cid) for stage, delta, cid in changes]
        executemany_raw(session, _SETTINGS_UPDATE, rows)
        return
    table = Customer.__table__
    if is_postgres(session):  # one UPDATE ... FROM unnest(...), the score added
        rows = [
            {"id": cid, "stage": stage, "activity_score": delta, "updated_at": now}
            for stage, delta, cid in changes
        ]
        postgres.update_many(session, table, rows, add=("activity_score",))
        return
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values(
            stage=bindparam("_stage"),
            activity_score=table.c.activity_score + bindparam("_delta"),
            updated_at=now,
        ),
        [{"_stage": stage, "_delta": delta, "_id": cid} for stage, delta, cid in changes],
    )


_SETTINGS_UPDATE = (
    'UPDATE "customers" SET "stage" = ?, "activity_score" = "activity_score" + ?, '
    '"updated_at" = ? WHERE "id" = ?'
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
