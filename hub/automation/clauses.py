"""The SQL of ``hub.automation.conditions``: a parsed tree compiled to one SQLAlchemy boolean.

Two shapes of the same predicates: ``population`` (a segment over every customer: each leaf
an uncorrelated ``id IN (SELECT customer_id ... GROUP BY ... HAVING ...)``, computed once per
query) and correlated (a rule over a batch of events: EXISTS / scalar subqueries per row, on
the customer and order indexes).

- ``orders_count`` / ``total_spent``: purchases (paid, shipped, completed orders), the total
  their paid amount net of refunds (the customer list's figures).
- ``source`` of a customer: its original source, or the source of any of its orders.
- ``created_at``: the customer's first order time, else the date the hub recorded it.
- ``bought``: the number of purchases (orders) within the days that hold a matching line.
- ``did_event``: the number of events of the type within the days.
- ``rfm``: see ``hub.automation.rfm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from hub.automation.scan import unindexed
from hub.automation.vocabulary import NEGATIVE, Condition, Leaf, Node, parse
from hub.core import zones
from hub.core.errors import N_, Refused
from hub.core.plan.orders import PURCHASED
from hub.models import (
    Customer,
    CustomerTag,
    Event,
    Group,
    GroupMember,
    Identity,
    Order,
    OrderLine,
    Tag,
    UTCDateTime,
)
from hub.models.types import money_cents
from hub.queries.paging import contains, source_spellings

CI_TEXT = {"stage", "source", "store", "order_status", "line.name", "tags", "groups"}


@dataclass
class Context:
    workspace_id: int
    now: datetime
    session: Session | None
    population: bool
    segments: tuple[int, ...] = field(default=())  # the segments being expanded (cycles)
    zone: tzinfo = UTC  # the workspace's: a calendar date in a condition is one of its days


def customer(cond: Condition, ctx: Context, cid: Any) -> ColumnElement[bool]:
    if isinstance(cond, Node):
        if ctx.population and (merged := _merge_aggregates(cond, ctx, cid)) is not None:
            return merged
        return _node(cond, lambda c: customer(c, ctx, cid))
    return _customer_leaf(cond, ctx, cid)


def event(cond: Condition, ctx: Context, e: Any) -> ColumnElement[bool]:
    if isinstance(cond, Node):
        return _node(cond, lambda c: event(c, ctx, e))
    if cond.scope == "customer":
        return customer(cond, ctx, _col(e, "customer_id"))
    return _event_leaf(cond, ctx, e)


def _node(node: Node, each: Any) -> ColumnElement[bool]:
    parts = [each(item) for item in node.items]
    if node.kind == "all":
        return and_(true(), *parts) if parts else true()
    return or_(false(), *parts) if parts else false()


def _col(obj: Any, name: str) -> Any:
    return getattr(obj.c, name) if hasattr(obj, "c") else getattr(obj, name)


def _signed(leaf: Leaf, positive: Any) -> ColumnElement[bool]:
    """``positive(op)`` for a positive op, its negation for a negative one."""
    if leaf.op in NEGATIVE:
        return not_(positive(NEGATIVE[leaf.op]))
    return positive(leaf.op)


def compare(column: Any, op: str, value: Any, *, fold: bool = False) -> ColumnElement[bool]:
    """A null-safe positive comparison (a NULL column never holds): eq, gt, gte, lt, lte, in,
    contains, exists. ``fold`` compares text ignoring case."""
    if op == "exists":
        return column.is_not(None)
    if fold:
        column = func.lower(column)
        value = tuple(v.lower() for v in value) if isinstance(value, tuple) else value.lower()
    if op == "contains":
        test = column.like(contains(value), escape="\\")
    elif op == "in":
        test = column.in_(list(value))
    else:
        test = {
            "eq": column.__eq__,
            "gt": column.__gt__,
            "gte": column.__ge__,
            "lt": column.__lt__,
            "lte": column.__le__,
        }[op](value)
    return and_(column.is_not(None), test)


def _cents(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(money_cents(v) for v in value)
    return money_cents(value)


# --- customer leaves ---------------------------------------------------------------------


def _customer_leaf(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    name = leaf.field
    if name in ("stage", "score") or name.startswith("properties."):
        return _signed(leaf, lambda op: _on_customer(ctx, cid, lambda c: _row(leaf, op, c)))
    builders = {
        "source": _source,
        "tags": _tags,
        "groups": _groups,
        "identity": _identity,
        "orders_count": _aggregate,
        "total_spent": _aggregate,
        "created_at": _created,
        "segment": _segment,
        "bought": _bought,
        "did_event": _did_event,
        "rfm": _rfm,
    }
    return builders[name](leaf, ctx, cid)


def _row(leaf: Leaf, op: str, c: Any) -> ColumnElement[bool]:
    if leaf.field == "stage":
        return compare(c.stage, op, leaf.value, fold=True)
    if leaf.field == "score":
        return compare(c.activity_score, op, leaf.value)
    key = leaf.field.removeprefix("properties.")
    return compare(_json_text(c.properties, key), op, leaf.value)


def _json_text(column: Any, key: str) -> Any:
    """The property's value as text, on SQLite (json_extract) and PostgreSQL (->>) alike."""
    from sqlalchemy import String, cast

    return cast(column[key].as_string(), String)


def _on_customer(ctx: Context, cid: Any, pred: Any) -> ColumnElement[bool]:
    """``pred`` over the customers row of ``cid``: directly when ``cid`` is Customer.id."""
    if _is_customer_id(cid):
        return pred(Customer)
    c = aliased(Customer)
    return exists(select(1).select_from(c).where(c.id == cid, pred(c)))


def _is_customer_id(cid: Any) -> bool:
    column = getattr(cid, "expression", cid)
    return getattr(column, "table", None) is Customer.__table__ and column.name == "id"


def _member(ctx: Context, cid: Any, owner: Any, *where: Any) -> ColumnElement[bool]:
    """``cid`` is among the ``owner`` column's values in rows matching ``where``."""
    if ctx.population:
        return cid.in_(select(owner).where(unindexed(owner).is_not(None), *where))
    return exists(select(1).where(owner == cid, *where))


def _order_ws(ctx: Context) -> ColumnElement[bool]:
    """The workspace's orders, never read by the workspace's index (see ``unindexed``): a
    segment scans the orders, a rule follows ix_orders_customer from its customer."""
    return unindexed(Order.workspace_id) == ctx.workspace_id


def _by_customer(ctx: Context, column: Any) -> ColumnElement[bool]:
    """``column`` (a workspace id) is the workspace's, in a subquery correlated to a customer
    (a rule's): not by an index led by the workspace, so SQLite follows the customer's index
    (its few rows) rather than every row of the workspace per event (quadratic in the
    workspace's size: bench/rules.py). A segment keeps the column as it is."""
    return (column if ctx.population else unindexed(column)) == ctx.workspace_id


def _source(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    def positive(op: str) -> ColumnElement[bool]:
        value = leaf.value
        if op in ("eq", "in"):
            values = value if isinstance(value, tuple) else (value,)
            op, value = "in", tuple(s for v in values for s in source_spellings(v))
        mine = _on_customer(ctx, cid, lambda c: compare(c.original_source, op, value, fold=True))
        ordered = _member(
            ctx, cid, Order.customer_id, _order_ws(ctx),
            compare(Order.source, op, value, fold=True),
        )  # fmt: skip
        return or_(mine, ordered)

    return _signed(leaf, positive)


def _tags(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    def positive(op: str) -> ColumnElement[bool]:
        named = true() if op == "exists" else compare(Tag.name, _set_op(op), leaf.value, fold=True)
        tagged = (
            select(CustomerTag.customer_id)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(Tag.workspace_id == ctx.workspace_id, named)
        )
        if ctx.population:
            return cid.in_(tagged)
        return exists(tagged.where(CustomerTag.customer_id == cid))

    return _signed(leaf, positive)


def _set_op(op: str) -> str:
    return "eq" if op == "contains" else op  # a tag/group "contains" is its exact name


def _groups(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    def positive(op: str) -> ColumnElement[bool]:
        named = (
            true() if op == "exists" else compare(Group.name, _set_op(op), leaf.value, fold=True)
        )
        members = (
            select(GroupMember.customer_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.workspace_id == ctx.workspace_id, named)
        )
        if ctx.population:
            return cid.in_(members)
        return exists(members.where(GroupMember.customer_id == cid))

    return _signed(leaf, positive)


def _identity(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    def positive(op: str) -> ColumnElement[bool]:
        return _member(
            ctx, cid, Identity.customer_id,
            _by_customer(ctx, Identity.workspace_id), Identity.type == leaf.value,
        )  # fmt: skip

    return _signed(leaf, positive)


def _aggregate(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    """orders_count / total_spent compared; a customer without purchases counts 0."""
    agg, value = _purchases(leaf)
    where = (_order_ws(ctx), Order.status.in_(sorted(PURCHASED)))
    return _counted_compare(leaf, ctx, cid, Order.customer_id, agg, value, where)


def _purchases(leaf: Leaf) -> tuple[Any, Any]:
    if leaf.field == "orders_count":
        return func.count(Order.id), leaf.value
    return func.coalesce(func.sum(type_coerce(Order.amount_paid, BigInteger)), 0), _cents(
        leaf.value
    )


def _merge_aggregates(node: Node, ctx: Context, cid: Any) -> ColumnElement[bool] | None:
    """A segment's sibling orders_count / total_spent leaves that a customer without purchases
    fails ("orders at least 4 or spent at least 500") in ONE grouped scan of the orders, their
    comparisons joined in its HAVING: half the time of a scan per leaf (bench/segments.py)."""
    mergeable = [
        item for item in node.items
        if isinstance(item, Leaf) and item.field in ("orders_count", "total_spent")
        and item.op in ("eq", "gt", "gte", "lt", "lte", "in")
        and not _holds(item.op, 0, _purchases(item)[1])
    ]  # fmt: skip
    if len(mergeable) < 2:
        return None
    tests = []
    for leaf in mergeable:
        agg, value = _purchases(leaf)
        tests.append(_compare_number(agg, leaf.op, value))
    joined = and_(*tests) if node.kind == "all" else or_(*tests)
    owner = Order.customer_id
    grouped = (
        select(owner)
        .where(unindexed(owner).is_not(None), _order_ws(ctx), Order.status.in_(sorted(PURCHASED)))
        .group_by(unindexed(owner))
        .having(joined)
    )
    rest = [customer(item, ctx, cid) for item in node.items if item not in mergeable]
    if node.kind == "all":
        return and_(cid.in_(grouped), *rest)
    return or_(cid.in_(grouped), *rest)


def _counted_compare(
    leaf: Leaf, ctx: Context, cid: Any, owner: Any, agg: Any, value: Any, where: Any
) -> ColumnElement[bool]:
    def positive(op: str) -> ColumnElement[bool]:
        if op == "exists":
            return true()
        return _compare_number(agg, op, value)

    def zero_holds(op: str) -> bool:
        return op == "exists" or _holds(op, 0, value)

    if not ctx.population:
        scalar = func.coalesce(select(agg).where(owner == cid, *where).scalar_subquery(), 0)
        return _signed(
            leaf, lambda op: true() if op == "exists" else _compare_number(scalar, op, value)
        )
    # Population: customers without rows count 0; when 0 holds, keep all but those whose
    # aggregate fails, else only those whose aggregate holds (one grouped scan either way).
    op = NEGATIVE.get(leaf.op, leaf.op)
    negate = leaf.op in NEGATIVE
    grouped = select(owner).where(unindexed(owner).is_not(None), *where).group_by(unindexed(owner))
    if zero_holds(op):
        clause = not_(cid.in_(grouped.having(not_(positive(op)))))
    else:
        clause = cid.in_(grouped.having(positive(op)))
    return not_(clause) if negate else clause


def _compare_number(agg: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "in":
        return agg.in_(list(value))
    return {
        "eq": agg.__eq__, "gt": agg.__gt__, "gte": agg.__ge__, "lt": agg.__lt__, "lte": agg.__le__,
    }[op](value)  # fmt: skip


def _holds(op: str, number: int, value: Any) -> bool:
    if op == "in":
        return number in value
    return {
        "eq": number == value, "gt": number > value, "gte": number >= value,
        "lt": number < value, "lte": number <= value,
    }[op]  # fmt: skip


def _created(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    first = (
        select(func.min(Order.ordered_at))
        .where(Order.customer_id == cid, unindexed(Order.workspace_id) == ctx.workspace_id)
        .scalar_subquery()
    )
    c = aliased(Customer)
    recorded = select(c.created_at).where(c.id == cid).scalar_subquery()
    when = type_coerce(func.coalesce(first, recorded), UTCDateTime())
    if isinstance(leaf.value, datetime):
        return _signed(leaf, lambda op: compare(when, op, leaf.value))
    start, end = zones.day_bounds(leaf.value, ctx.zone)  # a whole day of the workspace
    on_day = {
        "eq": lambda: and_(when >= start, when < end), "gt": lambda: when >= end,
        "gte": lambda: when >= start, "lt": lambda: when < start, "lte": lambda: when < end,
    }  # fmt: skip
    return _signed(leaf, lambda op: and_(when.is_not(None), on_day[op]()))


def _segment(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    ids = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
    parts = [_saved(ctx, segment_id, leaf.path, cid) for segment_id in ids]
    return _signed(leaf, lambda op: or_(false(), *parts))


def _saved(ctx: Context, segment_id: int, path: str, cid: Any) -> ColumnElement[bool]:
    from hub.models.segment import Segment

    where = f"{path}.value"
    if ctx.session is None:
        raise ValueError("a segment condition needs the session to read the segment")
    found = ctx.session.get(Segment, segment_id)
    if found is None or found.workspace_id != ctx.workspace_id:
        raise Refused(
            N_("%(path)s: segment %(id)s not found."), field=where, path=where, id=segment_id
        )
    if segment_id in ctx.segments:
        raise Refused(
            N_("%(path)s: segment %(id)s refers to itself."), field=where, path=where, id=segment_id
        )
    cond = parse(found.filter, where=f"segment {segment_id}", scope="customer")
    inner = Context(ctx.workspace_id, ctx.now, ctx.session, ctx.population, zone=ctx.zone)
    inner.segments = (*ctx.segments, segment_id)
    return customer(cond, inner, cid)


def _since(ctx: Context, days: int | None) -> datetime | None:
    return None if days is None else ctx.now - timedelta(days=days)


def _bought(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    v = leaf.value
    line = {
        "product_id": lambda: OrderLine.product_external_id == v["target"],
        "sku": lambda: OrderLine.sku_id == v["target"],
        "name_contains": lambda: compare(OrderLine.name, "contains", v["target"], fold=True),
    }[v["what"]]()
    where = [
        _order_ws(ctx),
        Order.status.in_(sorted(PURCHASED)),
        exists(select(1).where(OrderLine.order_id == Order.id, line)),
    ]
    if (since := _since(ctx, v["within_days"])) is not None:
        where.append(Order.ordered_at >= since)
    return _at_least(ctx, cid, Order.customer_id, func.count(Order.id), v["count"], where)


def _did_event(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    v = leaf.value
    where = [_by_customer(ctx, Event.workspace_id), Event.type == v["target"]]
    if (since := _since(ctx, v["within_days"])) is not None:
        where.append(Event.occurred_at >= since)
    return _at_least(ctx, cid, Event.customer_id, func.count(Event.id), v["count"], where)


def _at_least(
    ctx: Context, cid: Any, owner: Any, agg: Any, count: int, where: list[Any]
) -> ColumnElement[bool]:
    if ctx.population:
        grouped = (
            select(owner).where(unindexed(owner).is_not(None), *where).group_by(unindexed(owner))
        )
        return cid.in_(grouped.having(agg >= count) if count > 1 else grouped)
    if count == 1:
        return exists(select(1).where(owner == cid, *where))
    return select(agg).where(owner == cid, *where).scalar_subquery() >= count


def _rfm(leaf: Leaf, ctx: Context, cid: Any) -> ColumnElement[bool]:
    from hub.automation.rfm import members

    names = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
    return _signed(leaf, lambda op: cid.in_(members(ctx.workspace_id, names)))


# --- event leaves ------------------------------------------------------------------------


def _event_leaf(leaf: Leaf, ctx: Context, e: Any) -> ColumnElement[bool]:
    name = leaf.field
    if name == "amount":
        amount = type_coerce(_col(e, "amount"), BigInteger)
        return _signed(leaf, lambda op: compare(amount, op, _cents(leaf.value)))
    if name == "source":
        return _signed(leaf, lambda op: _event_source(leaf, op, e))
    if name.startswith("line."):
        return _signed(leaf, lambda op: _line(leaf, op, e))
    return _signed(leaf, lambda op: _order_of(leaf, op, e))


def _event_source(leaf: Leaf, op: str, e: Any) -> ColumnElement[bool]:
    value = leaf.value
    if op in ("eq", "in"):
        values = value if isinstance(value, tuple) else (value,)
        op, value = "in", tuple(s for v in values for s in source_spellings(v))
    return compare(_col(e, "source"), op, value, fold=True)


def _order_of(leaf: Leaf, op: str, e: Any) -> ColumnElement[bool]:
    if leaf.field == "order_status":
        test = compare(Order.status, op, leaf.value, fold=True)
    else:  # store: its name or its id
        name = compare(Order.store_name, op, leaf.value, fold=True)
        test = or_(name, compare(Order.store_id, op, leaf.value))
    return exists(_probe(select(1).where(Order.id == _col(e, "order_id"), test)))


def _probe(sub: Select[Any]) -> Select[Any]:
    """``sub`` (a subquery about one event's order) kept correlated: a probe of the order's
    few rows for each event. PostgreSQL would turn an EXISTS into a semi-join, and while a
    fast-growing table's statistics lag (a first sync), pick a hash of every order line of
    the workspace for each batch and rule (140 ms of a 330 ms batch); OFFSET 0 keeps it from
    pulling the subquery up. SQLite probes either way."""
    return sub.offset(0)


LINE_COLUMNS = {
    "line.product_id": "product_external_id",
    "line.sku": "sku_id",
    "line.name": "name",
    "line.quantity": "qty",
}


def _line(leaf: Leaf, op: str, e: Any) -> ColumnElement[bool]:
    column = getattr(OrderLine, LINE_COLUMNS[leaf.field])
    test = compare(column, op, leaf.value, fold=leaf.field in CI_TEXT)
    return exists(_probe(select(1).where(OrderLine.order_id == _col(e, "order_id"), test)))


def workspace_zone(workspace_id: int, session: Session | None) -> tzinfo:
    """The workspace's time zone, in which a calendar date of a condition is read."""
    from sqlalchemy import select

    from hub.models import Workspace

    if session is None:
        from hub.extensions import db

        session = db.session
    return zones.zone(
        session.scalar(select(Workspace.time_zone).where(Workspace.id == workspace_id))
    )
