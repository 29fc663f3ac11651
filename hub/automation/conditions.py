"""The condition vocabulary of rules (``conditions``) and segments (``filter``), validated and
compiled to SQL.

A tree is a list of leaves (all of them must hold), or ``{"all": [...]}`` / ``{"any": [...]}``
nested freely; a leaf is ``{"field": F, "op": OP, "value": V}`` (no value for ``exists`` /
``not_exists``). ``parse`` checks it and raises ``Refused`` whose field names the path
("conditions[1].op", "filter.any[0].value") and says what is allowed; ``customer_clause`` and
``event_clause`` compile it to one SQL boolean (correlated EXISTS and scalar subqueries, no
Python per customer), on SQLite and PostgreSQL alike. The vocabulary lives in
``hub.automation.vocabulary``, the SQL in ``hub.automation.clauses``.

Text compares ignore case (``eq``, ``in``, ``contains``), except ids (``line.product_id``,
``line.sku``) and ``properties.<key>`` (compared as text, exactly). Money is Decimal, compared
in cents. A negative op (``ne``, ``not_in``, ``not_contains``, ``not_exists``) holds exactly
when its positive op does not, so a blank value is "not equal" to anything.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from hub.automation import clauses
from hub.automation.vocabulary import (
    CUSTOMER_FIELDS,
    EVENT_FIELDS,
    RFM_NAMES,
    Condition,
    Leaf,
    Node,
    Scope,
    fields,
    parse,
)

__all__ = [
    "CUSTOMER_FIELDS",
    "EVENT_FIELDS",
    "RFM_NAMES",
    "Condition",
    "Leaf",
    "Node",
    "Scope",
    "customer_clause",
    "event_clause",
    "fields",
    "parse",
]


def customer_clause(
    cond: Condition,
    *,
    workspace_id: int,
    customer: ColumnElement[int],
    now: datetime,
    session: Session | None = None,
) -> ColumnElement[bool]:
    """An SQL boolean over the customer id column given. ``session`` reads the saved segments
    a ``segment`` leaf names (required when there is one)."""
    zone = clauses.workspace_zone(workspace_id, session)
    ctx = clauses.Context(workspace_id, _aware(now), session, population=False, zone=zone)
    return clauses.customer(cond, ctx, customer)


def event_clause(
    cond: Condition,
    *,
    workspace_id: int,
    event: Any,
    now: datetime,
    session: Session | None = None,
    zone: tzinfo | None = None,
) -> ColumnElement[bool]:
    """An SQL boolean over a row of ``event`` (an aliased Event); customer leaves apply to
    its customer_id, line leaves hold when some line of its order satisfies them. ``zone``:
    the workspace's time zone when the caller has read it (else read here)."""
    if zone is None:
        zone = clauses.workspace_zone(workspace_id, session)
    ctx = clauses.Context(workspace_id, _aware(now), session, population=False, zone=zone)
    return clauses.event(cond, ctx, event)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("naive datetime: time must be timezone-aware")
    return now
