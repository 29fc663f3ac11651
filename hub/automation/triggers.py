"""Time-based triggers (A1), evaluated by the worker's scheduler (``hub.jobs.schedule.tick``),
set-based in SQL: one INSERT … SELECT per enabled rule, never a loop over customers.

- ``checkout_abandoned``: a checkout deal still a checkout in ``checkout_abandoned``
  ``after_hours`` after its ``checkout_abandoned`` event fires once, that event being the run's
  event. An order that takes the checkout over (the deal becomes the order's, H6) or completes
  it first moves the deal out of the stage, so it never fires: cancelled.
- ``no_purchase``: a customer whose last purchase is older than ``days`` fires once per lapse,
  the run's key naming the last purchase (``no_purchase:<rule>:<customer>:<event id>``), so it
  fires again only after a new purchase has lapsed in its turn.

A rule created today does not fire on yesterday's events: only abandonments recorded, and
lapses reached, after the rule was created (the rest is the backfill's, counted first).

The dry run of a time rule (``dry_run``) lists what is due now, flagged by the scheduler's own
source (``scheduled_source``, the very query ``schedule_tick`` fires from), so the two cannot
drift.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from hub.automation.actions import event_part
from hub.automation.firing import condition_clause, fire
from hub.automation.sqlsets import among
from hub.core.plan.stages import ABANDONED
from hub.models import Deal, Event, Rule, RuleRun
from hub.models.types import UTCDateTime

TIME_TRIGGERS = ("checkout_abandoned", "no_purchase")
DEFAULT_AFTER_HOURS = 24


def time_source(rule: Rule, now: datetime, *, since: datetime | None) -> Select:
    """(event_key, event_id, customer_id) of what the time rule fires on at ``now``; ``since``:
    only abandonments recorded / lapses reached from then on (None: all, the backfill)."""
    if rule.trigger == "checkout_abandoned":
        return _abandoned(rule, now, since)
    return _lapsed(rule, now, since)


def _abandoned(rule: Rule, now: datetime, since: datetime | None) -> Select:
    e, d = Event.__table__.alias("e"), Deal.__table__
    due = now - due_after(rule)
    key = d.c.source + literal(":checkout:") + d.c.external_id + literal(":abandoned")
    deal = (
        exists()
        .where(d.c.workspace_id == rule.workspace_id, d.c.kind == "checkout",
               d.c.stage == ABANDONED, key == e.c.dedupe_key)
    )  # fmt: skip
    stmt = select(
        e.c.dedupe_key.label("event_key"), e.c.id.label("event_id"), e.c.customer_id
    ).where(
        e.c.workspace_id == rule.workspace_id, e.c.type == "checkout_abandoned",
        e.c.customer_id.is_not(None), e.c.occurred_at <= literal(due, UTCDateTime()), deal,
    )  # fmt: skip
    if since is not None:
        stmt = stmt.where(e.c.created_at >= literal(since, UTCDateTime()))
    clause = condition_clause(rule, e, now)
    return stmt if clause is None else stmt.where(clause)


def _lapsed(rule: Rule, now: datetime, since: datetime | None) -> Select:
    e, later = Event.__table__.alias("e"), Event.__table__.alias("later")
    days = due_after(rule)
    newer = exists().where(
        later.c.customer_id == e.c.customer_id,
        later.c.type == "purchase",
        or_(later.c.occurred_at > e.c.occurred_at,
            and_(later.c.occurred_at == e.c.occurred_at, later.c.id > e.c.id)),
    )  # fmt: skip
    key = (
        literal(f"no_purchase:{rule.id}:") + cast(e.c.customer_id, String)
        + literal(":") + cast(e.c.id, String)
    )  # fmt: skip
    stmt = select(key.label("event_key"), e.c.id.label("event_id"), e.c.customer_id).where(
        e.c.workspace_id == rule.workspace_id, e.c.type == "purchase",
        e.c.customer_id.is_not(None), e.c.occurred_at < literal(now - days, UTCDateTime()),
        ~newer,
    )  # fmt: skip
    if since is not None:  # the lapse (last purchase + days) reached after the rule's creation
        stmt = stmt.where(e.c.occurred_at >= literal(since - days, UTCDateTime()))
    clause = condition_clause(rule, e, now)
    return stmt if clause is None else stmt.where(clause)


def scheduled_source(rule: Rule, now: datetime) -> Select:
    """What the scheduler fires the rule on at ``now`` (before the runs' ON CONFLICT drops
    those fired already): due, and abandoned / lapsed since the rule exists."""
    return time_source(rule, now, since=rule.created_at or now)


def due_after(rule: Rule) -> timedelta:
    """How long after its event a lapse or an abandonment is due."""
    if rule.trigger == "checkout_abandoned":
        return timedelta(hours=rule.after_hours or DEFAULT_AFTER_HOURS)
    return timedelta(days=rule.days or 1)


def dry_run(session: Session, rule: Rule, now: datetime, last: int) -> list[dict[str, Any]]:
    """The ``last`` latest lapses (``no_purchase``: a customer's last purchase ``days`` old)
    or abandoned checkouts left ``after_hours`` that satisfy the rule's conditions at ``now``,
    newest first: ``would_fire`` when the scheduler's source holds it (the next tick fires it
    unless ``fired`` already: once per lapse), else it was due before the rule existed
    (``backfill_only``). Two set-based statements (the second over the first's events only,
    never a join of the two sets); writes nothing."""
    due = time_source(rule, now, since=None).subquery("due")
    ev, runs = Event.__table__.alias("ev"), RuleRun.__table__
    fired = exists().where(runs.c.rule_id == rule.id, runs.c.event_key == due.c.event_key)
    stmt = (
        select(due.c.event_key, ev.c.id, ev.c.type, ev.c.occurred_at, ev.c.amount, ev.c.source,
               ev.c.order_id, due.c.customer_id, fired.label("fired"))
        .select_from(due.join(ev, ev.c.id == due.c.event_id))
        .order_by(ev.c.occurred_at.desc(), ev.c.id.desc())
        .limit(last)
    )  # fmt: skip
    rows = session.execute(stmt).all()
    if not rows:
        return []
    tick = scheduled_source(rule, now).subquery("tick")
    ids = sorted({r.id for r in rows})
    scheduled = set(
        session.scalars(select(tick.c.event_key).where(among(session, tick.c.event_id, ids)))
    )
    after = due_after(rule)
    return [
        {
            "event": event_part(r),
            "customer_id": r.customer_id,
            "due_at": (r.occurred_at + after).isoformat(),
            "would_fire": r.event_key in scheduled,
            "fired": bool(r.fired),
            "backfill_only": r.event_key not in scheduled and not r.fired,
        }
        for r in rows
    ]


def schedule_tick(session: Session, now: datetime) -> int:
    """Fire every enabled time rule of every workspace on what is due at ``now``; the caller
    commits. How many runs."""
    rules = session.scalars(
        select(Rule)
        .where(Rule.enabled.is_(True), Rule.trigger.in_(TIME_TRIGGERS))
        .order_by(Rule.id)
    ).all()
    return sum(fire(session, rule, scheduled_source(rule, now), now) for rule in rules)
