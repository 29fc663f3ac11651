"""The row sets of planned orders: each order's row, its lines, refunds and events, as tuples
in the order of the column lists below (or dicts by id, for updates). In memory."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from hub.core.plan.orders import Plan
from hub.core.records import OrderRecord

# What a snapshot sets on an order, new or stored (in the order of ``order_values``).
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

# An order placed: its record, plan, id and customer id.
Placed = tuple[OrderRecord, Plan, int, int | None]


def order_values(rec: OrderRecord, plan: Plan, customer_id: int | None, now: Any) -> tuple:
    """The values of ORDER_FIELDS for an order."""
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


def line_rows(
    workspace_id: int,
    placed: Iterable[Placed],
    existing: dict[int, dict[str, int]],
    product_of: Callable[[tuple[str, str]], int | None],
) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]], list[int]]:
    """(inserts, updates, deleted ids) of the orders' lines: a new order's lines are inserted;
    a stored order's lines (``existing``: line id by external id, per order) are matched by
    external id: updated, inserted, and deleted when the snapshot no longer has them."""
    inserts, updates, deletes = [], [], []
    for rec, _plan, order_id, _cid in placed:
        have = existing.get(order_id)
        source = rec.source
        for line in rec.lines:
            row = (
                workspace_id,
                order_id,
                line.external_id,
                product_of((source, line.product_external_id))
                if line.product_external_id
                else None,
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
    return inserts, updates, deletes


def refund_rows(workspace_id: int, placed: Iterable[Placed]) -> list[tuple[Any, ...]]:
    """The refunds not recorded before (REFUND_COLUMNS)."""
    return [
        (workspace_id, oid, r.external_id, r.amount, r.refunded_at, r.reason)
        for _rec, plan, oid, _cid in placed
        for r in plan.new_refunds
    ]


def event_rows(
    workspace_id: int, placed: Iterable[Placed], seen: set[str], now: Any
) -> list[tuple[Any, ...]]:
    """The planned events whose dedupe key is not in ``seen`` (EVENT_COLUMNS); their keys are
    added to it."""
    rows = []
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
    return rows


def order_rows(
    head: tuple[int, int | None],
    plans: Iterable[tuple[OrderRecord, Plan, int | None, int | str | None]],
    customer_ids: dict[int | str, int],
    now: Any,
) -> tuple[list[tuple[Any, ...]], list[tuple[OrderRecord, Plan, int | None]], list[Placed]]:
    """The planned orders split into new rows (NEW_ORDER_COLUMNS + ORDER_FIELDS) with their
    (record, plan, customer id), and stored orders placed, their update rows built by
    :func:`order_updates`. ``head`` is (workspace id, connection id); a plan's customer key is
    an id or a new customer's key found in ``customer_ids``."""
    new_rows, new_plans, updated = [], [], []
    for rec, plan, order_id, key in plans:
        # an existing customer's id, or a new customer's key made an id by the store
        customer_id = None if key is None else cast(int, customer_ids.get(key, key))
        if order_id is None:
            values = order_values(rec, plan, customer_id, now)
            new_rows.append((*head, rec.source, rec.external_id, now, *values))
            new_plans.append((rec, plan, customer_id))
        else:
            updated.append((rec, plan, order_id, customer_id))
    return new_rows, new_plans, updated


def order_updates(updated: Iterable[Placed], now: Any) -> list[dict[str, Any]]:
    """Update rows (by id) of the stored orders placed."""
    return [
        {"id": oid, **dict(zip(ORDER_FIELDS, order_values(rec, plan, cid, now), strict=True))}
        for rec, plan, oid, cid in updated
    ]
