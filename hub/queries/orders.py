"""Orders: the one order filter (S1) and an order's lines, refunds and events.

- ``order_no``: the order number pasted whole or its beginning typed, either case; the
  platform's order id (``external_id``) pasted whole also finds it.
- ``status``: one or more of STATUSES, comma-separated or repeated (``status=paid,shipped``).
- ``from``/``to`` (the pages' date fields send ``since``/``until``): an inclusive range of
  order times, ISO-8601 with an offset or a date (a whole day in the workspace's zone).
- ``store``: a platform store id, a store name, or the id of one of the workspace's stores.
- ``connection_id``: the id of one of the workspace's stores (what "Orders of this store" asks
  for: the platform's shop name may differ from the name the store was bound with).
- ``source``: the platform or the sales channel ("WeChat Mini Shop"), either case.
- ``sort``: one of SORTS, ``-`` in front for descending (default: newest first).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from hub.core import sources as source_keys
from hub.core.errors import ValidationFailed
from hub.extensions import db
from hub.models import STATUSES, Event, Order, OrderLine, OrderRefund
from hub.queries.paging import escape_like, in_workspace, source_spellings, text_arg
from hub.services import parsing
from hub.services.customers import N_

# The list's sortable columns (what the page shows): ``sort=<key>`` or ``sort=-<key>``.
SORTS: dict[str, Any] = {
    "order_no": Order.order_no,
    "ordered": Order.ordered_at,
    "status": Order.status,
    "store": Order.store_name,
    "source": Order.sales_channel,
    "total": Order.amount_total,
    "paid": Order.amount_paid,
}


class ReversedRange(parsing.Refused):
    """A range whose start is after its end: it could match nothing (22.12)."""


@dataclass(frozen=True)
class OrderFilter:
    order_no: str | None = None
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    store: str | None = None
    source: str | None = None
    customer_id: int | None = None
    connection_id: int | None = None
    sort: str | None = None

    @classmethod
    def from_args(cls, args: Any, tz: tzinfo = UTC) -> OrderFilter:
        """From query arguments: order_no, status, from (or since), to (or until), store,
        source, connection_id; ValidationFailed naming the argument for a value that cannot be
        taken, and for a range whose start is after its end (it could match nothing). A date is a
        whole day in ``tz``, the workspace's zone."""
        start_name = "from" if args.get("from") is not None else "since"
        end_name = "to" if args.get("to") is not None else "until"
        start = parsing.moment(args.get(start_name), start_name, tz=tz)
        end = parsing.moment(args.get(end_name), end_name, end=True, tz=tz)
        if start and end and start > end:
            raise ReversedRange(
                N_("The date range is reversed: %(start)s (%(a)s) is after %(end)s (%(b)s). "
                   "Swap the two dates."),
                field=start_name, start=start_name, end=end_name,
                a=args.get(start_name).strip(), b=args.get(end_name).strip(),
            )  # fmt: skip
        return cls(
            order_no=text_arg(args, "order_no"),
            statuses=_statuses(args),
            start=start,
            end=end,
            store=text_arg(args, "store"),
            source=text_arg(args, "source"),
            connection_id=parsing.record_id(args.get("connection_id"), "connection_id"),
            sort=_sort(args),
        )


def _sort(args: Any) -> str | None:
    sort = text_arg(args, "sort")
    if sort and sort.removeprefix("-") not in SORTS:
        raise parsing.Refused(
            N_("sort must be one of %(keys)s (a leading - sorts descending), not %(got)s."),
            field="sort", keys=", ".join(SORTS), got=repr(sort),
        )  # fmt: skip
    return sort


def _statuses(args: Any) -> tuple[str, ...]:
    chosen: list[str] = []
    for value in args.getlist("status"):
        for one in (part.strip() for part in value.split(",")):
            if one and one not in STATUSES:
                raise ValidationFailed(
                    f"Status: {one!r} is not an order status; choose from {', '.join(STATUSES)}",
                    field="status",
                )
            if one and one not in chosen:
                chosen.append(one)
    return tuple(chosen)


def search(workspace_id: int, f: OrderFilter) -> Select[Any]:
    """The workspace's orders matching ``f``, sorted by ``f.sort`` (newest first)."""
    stmt = select(Order).where(Order.workspace_id == workspace_id)
    for condition in _conditions(f):
        stmt = stmt.where(condition)
    if not f.sort:
        return stmt.order_by(Order.ordered_at.desc(), Order.id.desc())
    column = SORTS[f.sort.removeprefix("-")]
    if f.sort.startswith("-"):  # blanks last either way, on SQLite as on PostgreSQL
        return stmt.order_by(column.is_(None), column.desc(), Order.id.desc())
    return stmt.order_by(column.is_(None), column, Order.id)


def _conditions(f: OrderFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.order_no:
        prefix = f"{escape_like(f.order_no)}%"
        conditions.append(
            or_(Order.order_no.ilike(prefix, escape="\\"), Order.external_id == f.order_no)
        )
    if f.statuses:
        conditions.append(Order.status.in_(f.statuses))
    if f.start:
        conditions.append(Order.ordered_at >= f.start)
    if f.end:
        conditions.append(Order.ordered_at <= f.end)
    if f.store:
        conditions.append(_store(f.store))
    if f.source:
        names = source_spellings(f.source)
        conditions.append(
            or_(func.lower(Order.source).in_(names), func.lower(Order.sales_channel).in_(names))
        )
    if f.customer_id:
        conditions.append(Order.customer_id == f.customer_id)
    if f.connection_id:
        conditions.append(Order.connection_id == f.connection_id)
    return conditions


def _store(store: str) -> ColumnElement[bool]:
    """A platform store id, a store name, or a store (connection) id of this workspace."""
    clauses = [Order.store_id == store, Order.store_name == store]
    if (connection_id := parsing.as_id(store)) is not None:
        clauses.append(Order.connection_id == connection_id)
    return or_(*clauses)


EXPORT_HEADER = ("id", "order_no", "external_id", "ordered_at", "paid_at", "status",
                 "platform_status", "customer_id", "store_id", "store_name", "connection_id",
                 "source", "sales_channel", "currency", "amount_total", "amount_paid",
                 "refunded_amount", "cancelled_amount")  # fmt: skip


def export_rows(session: Session, workspace_id: int, f: OrderFilter) -> Iterator[tuple[Any, ...]]:
    """The orders ``search`` finds, one tuple per order in EXPORT_HEADER's order, read from
    the database in batches (constant memory, whatever the number of orders)."""
    columns = [getattr(Order, name) for name in EXPORT_HEADER]
    stmt = search(workspace_id, f).with_only_columns(*columns)
    for row in session.execute(stmt.execution_options(yield_per=500)):
        yield tuple(row)


def get(workspace_id: int, order_id: int) -> Order:
    return in_workspace(Order, workspace_id, order_id, "order")


@dataclass
class Details:
    lines: list[OrderLine]
    refunds: list[OrderRefund]
    events: list[Event]


def by_ids(workspace_id: int, ids: Iterable[int | None]) -> dict[int, Order]:
    """The workspace's orders among ``ids`` (None and others' ids left out), by id."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    found = db.session.scalars(
        select(Order).where(Order.workspace_id == workspace_id, Order.id.in_(wanted))
    )
    return {o.id: o for o in found}


def details(workspace_id: int, order_id: int) -> Details:
    """Lines, refunds and events of one order of the workspace."""
    scope = {"workspace_id": workspace_id, "order_id": order_id}
    lines = select(OrderLine).filter_by(**scope).order_by(OrderLine.id)
    refunds = select(OrderRefund).filter_by(**scope).order_by(OrderRefund.refunded_at)
    events = select(Event).filter_by(**scope).order_by(Event.occurred_at, Event.id)
    return Details(
        list(db.session.scalars(lines)),
        list(db.session.scalars(refunds)),
        list(db.session.scalars(events)),
    )


def any_order(workspace_id: int) -> bool:
    """Whether the workspace has an order at all."""
    stmt = select(Order.id).where(Order.workspace_id == workspace_id).limit(1)
    return db.session.scalar(stmt) is not None


def sources(workspace_id: int) -> list[str]:
    """Distinct sources and sales channels, e.g. "wechat_shop" (W6): one key per source,
    whatever the case of older rows, by display name."""
    values: set[str] = set()
    for column in (Order.source, Order.sales_channel):
        stmt = select(column).where(Order.workspace_id == workspace_id).distinct()
        values.update(v for v in db.session.scalars(stmt) if v)
    return source_keys.unique_keys(values)


def stores(workspace_id: int) -> list[str]:
    stmt = select(Order.store_name).where(Order.workspace_id == workspace_id).distinct()
    return sorted(v for v in db.session.scalars(stmt) if v)
