"""RF segments in SQL, set-based: the same segments ``hub.analytics.rfm_scores`` computes.

Over every order of the workspace with a customer (whatever its status, as the analytics'
transactions): per customer the last order time and the number of orders; R is the quintile
of the recency rank (ties take the highest rank, ``rank(method="max", pct=True)``), F the
quintile of the order count ranked first-come (ties broken by customer id, as pandas'
``rank(method="first")`` over the customer-sorted groups), both ``ceil(5 * rank / n)``; the
segment is the first of ``RF_SEGMENTS`` whose R and F sets hold the scores, else "other".
Customers without orders are in no RF segment."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, case, func, select

from hub.automation.scan import unindexed
from hub.core.plan.rfm import RF_SEGMENTS
from hub.models import Order


def scored(workspace_id: int) -> Any:
    """A subquery: customer_id, r, f, segment for every customer with orders."""
    per = (
        select(
            Order.customer_id.label("customer_id"),
            func.max(Order.ordered_at).label("last"),
            func.count(Order.id).label("orders"),
        )
        .where(
            unindexed(Order.workspace_id) == workspace_id,
            unindexed(Order.customer_id).is_not(None),
        )
        .group_by(unindexed(Order.customer_id))
        .subquery("rfm_per")
    )
    n = func.count().over()
    recency_rank = func.count().over(order_by=per.c.last)  # rows with last <= mine (peers in)
    frequency_rank = func.row_number().over(order_by=(per.c.orders, per.c.customer_id))
    ranked = select(
        per.c.customer_id,
        ((5 * recency_rank + n - 1) // n).label("r"),
        ((5 * frequency_rank + n - 1) // n).label("f"),
    ).subquery("rfm_ranked")
    whens = [
        (ranked.c.r.in_([int(x) for x in rs]) & ranked.c.f.in_([int(x) for x in fs]), name)
        for name, (rs, fs) in RF_SEGMENTS.items()
    ]
    segment = case(*whens, else_="other").label("segment")
    return select(ranked.c.customer_id, ranked.c.r, ranked.c.f, segment).subquery("rfm")


def members(workspace_id: int, names: Iterable[str]) -> Select[Any]:
    """The ids of the customers in any of the RF segments ``names``."""
    rfm = scored(workspace_id)
    return select(rfm.c.customer_id).where(rfm.c.segment.in_(sorted(set(names))))
