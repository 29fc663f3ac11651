"""RF segments in SQL, set-based: the same segments ``hub.analytics.rfm_scores`` computes.

Over every order of the workspace with a customer (whatever its status, as the analytics'
transactions): per customer the last order time and the number of orders; R is the quintile
of the recency rank (ties take the highest rank, ``rank(method="max", pct=True)``), F the
quintile of the order count ranked first-come (ties broken by customer id, as pandas'
``rank(method="first")`` over the customer-sorted groups), both ``ceil(5 * rank / n)``; the
segment is the first of ``RF_SEGMENTS`` whose R and F sets hold the scores, else "other".
Customers without orders are in no RF segment.

``members`` asks which customers are in given segments without ranking every customer: R is at
least k exactly when the last order time is at least the value at 0-based position
floor((k - 1) * n / 5) of the sorted last times (ties included), and F at least k when (orders,
customer id) is at least the pair at that position; a segment's cells are then ranges of the
two, against a few thresholds each read by one sort (no window over every customer: half the
time of ``scored`` over 100,000 customers, bench/segments.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    tuple_,
)

from hub.automation.scan import unindexed
from hub.core.plan.rfm import RF_SEGMENTS
from hub.models import Order


def _per_customer(workspace_id: int) -> Any:
    """customer_id, last (order time), orders (count) of every customer with orders: grouped
    on ix_orders_customer (customer, workspace, order time), read from that index alone."""
    return (
        select(
            Order.customer_id.label("customer_id"),
            func.max(Order.ordered_at).label("last"),
            func.count(Order.id).label("orders"),
        )
        .where(
            unindexed(Order.workspace_id) == workspace_id,
            unindexed(Order.customer_id).is_not(None),
        )
        .group_by(Order.customer_id)
    )


def scored(workspace_id: int) -> Any:
    """A subquery: customer_id, r, f, segment for every customer with orders."""
    per = _per_customer(workspace_id).subquery("rfm_per")
    # Small constants written into the SQL, not bound: SQLite plans ``r IN (4, 5)`` and the
    # arithmetic over literals in half the time it takes over parameters (bench/segments.py).
    five, one = literal_column("5"), literal_column("1")
    n = func.count().over()
    recency_rank = func.count().over(order_by=per.c.last)  # rows with last <= mine (peers in)
    frequency_rank = func.row_number().over(order_by=(per.c.orders, per.c.customer_id))
    ranked = select(
        per.c.customer_id,
        ((five * recency_rank + n - one) // n).label("r"),
        ((five * frequency_rank + n - one) // n).label("f"),
    ).subquery("rfm_ranked")
    whens = [
        (ranked.c.r.in_(_ints(rs)) & ranked.c.f.in_(_ints(fs)), name)
        for name, (rs, fs) in RF_SEGMENTS.items()
    ]
    segment = case(*whens, else_="other").label("segment")
    return select(ranked.c.customer_id, ranked.c.r, ranked.c.f, segment).subquery("rfm")


def members(workspace_id: int, names: Iterable[str]) -> Select[Any]:
    """The ids of the customers in any of the RF segments ``names`` ("other": none of them)."""
    per = _per_customer(workspace_id).cte(nesting=True)  # read twice or more: computed once
    n = select(func.count()).select_from(per).scalar_subquery()
    by_r, by_f = (per.c.last,), (per.c.orders, per.c.customer_id)
    thresholds: dict[tuple[str, int], Any] = {}

    def at_least(kind: str, k: int) -> ColumnElement[bool]:
        """R (or F) is at least ``k`` (2 to 5)."""
        if (kind, k) not in thresholds:
            key = by_r if kind == "r" else by_f
            offset = literal_column(str(k - 1), Integer()) * n // literal_column("5", Integer())
            row = select(*key).order_by(*key).limit(literal_column("1")).offset(offset)
            thresholds[kind, k] = row.scalar_subquery()
        key = by_r if kind == "r" else by_f
        return (key[0] if len(key) == 1 else tuple_(*key)) >= thresholds[kind, k]

    def within(kind: str, scores: set[int]) -> ColumnElement[bool]:
        """R (or F) is one of ``scores``: each run of consecutive scores a range."""
        ranges = []
        for low, high in _runs(scores):
            parts = [at_least(kind, low)] if low > 1 else []
            if high < 5:
                parts.append(not_(at_least(kind, high + 1)))
            ranges.append(and_(true(), *parts))
        return or_(false(), *ranges)

    chosen = _cells(set(names))
    by_rs: dict[frozenset[int], set[int]] = {}  # the R scores of each set of F scores
    for r in range(1, 6):
        fs = frozenset(f for rr, f in chosen if rr == r)
        if fs:
            by_rs.setdefault(fs, set()).add(r)
    where = [and_(within("r", rs), within("f", set(fs))) for fs, rs in by_rs.items()]
    return select(per.c.customer_id).where(or_(false(), *where))


def _cells(names: set[str]) -> set[tuple[int, int]]:
    """The (R, F) cells whose segment (the first of RF_SEGMENTS holding it, else "other") is
    one of ``names``."""
    out = set()
    for r in range(1, 6):
        for f in range(1, 6):
            first = next(
                (name for name, (rs, fs) in RF_SEGMENTS.items() if str(r) in rs and str(f) in fs),
                "other",
            )
            if first in names:
                out.add((r, f))
    return out


def _runs(scores: set[int]) -> list[tuple[int, int]]:
    """Consecutive runs of ``scores``: {1, 2, 4} -> [(1, 2), (4, 4)]."""
    runs: list[tuple[int, int]] = []
    for s in sorted(scores):
        if runs and runs[-1][1] == s - 1:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    return runs


def _ints(scores: str) -> list[Any]:
    return [literal_column(str(int(x))) for x in scores]
