"""The rules engine (A1, S7): a rule's vocabulary and validation, and its firing.

A rule fires once per (rule, event): each firing is a ``rule_runs`` row under UNIQUE (rule_id,
event_key), written by one INSERT … SELECT … ON CONFLICT DO NOTHING from the events joined with
the rule's compiled conditions, so a replayed event (same dedupe key) records no run and does
nothing (X1). The internal actions are then applied set-based from the new runs and webhook
actions written to the outbox, all in the caller's transaction (X2): nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from hub.automation import actions as acts
from hub.automation import triggers
from hub.automation.firing import condition_clause, event_source, fire, insert_batch_runs
from hub.automation.sqlsets import among
from hub.core.errors import N_, Refused
from hub.core.plan.settings import STAGES
from hub.models import Event, Rule, RuleRun

EVENT_TRIGGERS = ("first_purchase", "purchase", "return", "cancel")
TIME_TRIGGERS = triggers.TIME_TRIGGERS
TRIGGERS = EVENT_TRIGGERS + TIME_TRIGGERS
ACTIONS = acts.TYPES
DEFAULT_AFTER_HOURS = triggers.DEFAULT_AFTER_HOURS


# ---------------------------------------------------------------- validation


def _refuse(field: str, message: str, **params: Any) -> Refused:
    return Refused(message, field=field, path=field, **params)


def _positive_int(value: Any, field: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _refuse(field, N_("%(path)s must be a whole number of 1 or more."))
    return value


def validate_trigger(data: Any) -> tuple[str, int | None, int | None]:
    """(type, after_hours, days) of a rule's ``trigger``."""
    if not isinstance(data, dict):
        raise _refuse("trigger", N_("%(path)s must be an object with a type."))
    type_ = data.get("type")
    if type_ not in TRIGGERS:
        raise _refuse("trigger.type", N_("%(path)s must be one of %(allowed)s."),
                      allowed=", ".join(TRIGGERS))  # fmt: skip
    after_hours = days = None
    if type_ == "checkout_abandoned":
        hours = data.get("after_hours", DEFAULT_AFTER_HOURS)
        after_hours = _positive_int(hours, "trigger.after_hours")
    if type_ == "no_purchase":
        if data.get("days") is None:
            raise _refuse("trigger.days", N_("%(path)s is required for no_purchase."))
        days = _positive_int(data.get("days"), "trigger.days")
    return type_, after_hours, days


def validate_conditions(tree: Any) -> Any:
    """The conditions as given, checked by the condition compiler (paths named)."""
    if tree in (None, [], {}):
        return []
    from hub.automation import conditions

    conditions.parse(tree, where="conditions", scope="event")
    return tree


def validate_actions(data: Any, *, allow_private: bool) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not data:
        raise _refuse("actions", N_("%(path)s must be a list of one or more actions."))
    return [acts.validate(a, f"actions[{i}]", allow_private) for i, a in enumerate(data)]


def validate(data: dict[str, Any], *, allow_private: bool, rule: Rule | None = None) -> dict:
    """The columns of a rule from API/UI input; ``rule`` given: a PATCH, only what is sent."""
    out: dict[str, Any] = {}
    if rule is None or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise _refuse("name", N_("%(path)s is required (1 to 200 characters)."))
        out["name"] = name.strip()
    if rule is None or "trigger" in data:
        out["trigger"], out["after_hours"], out["days"] = validate_trigger(data.get("trigger"))
    if rule is None or "conditions" in data:
        out["conditions"] = validate_conditions(data.get("conditions"))
    if rule is None or "actions" in data:
        out["actions"] = validate_actions(data.get("actions"), allow_private=allow_private)
    if rule is None or "enabled" in data:
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _refuse("enabled", N_("%(path)s must be true or false."))
        out["enabled"] = enabled
    return out


def trigger_of(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"type": rule.trigger}
    if rule.after_hours is not None:
        out["after_hours"] = rule.after_hours
    if rule.days is not None:
        out["days"] = rule.days
    return out


# ---------------------------------------------------------------- firing


def enabled_rules(session: Session, workspace_id: int, kinds: Sequence[str]) -> list[Rule]:
    """The workspace's enabled rules of these triggers: one indexed lookup per batch."""
    return list(
        session.scalars(
            select(Rule)
            .where(Rule.workspace_id == workspace_id, Rule.enabled.is_(True))
            .where(Rule.trigger.in_(kinds))
            .order_by(Rule.id)
        )
    )


def fire_for_batch(
    session: Session, workspace_id: int, event_keys: list[str], now: datetime
) -> int:
    """Fire the workspace's enabled event rules on the events a batch recorded (by dedupe
    key), in the batch's transaction. Without enabled rules: one lookup. How many runs."""
    if not event_keys:
        return 0
    rules = enabled_rules(session, workspace_id, EVENT_TRIGGERS)
    if not rules:
        return 0
    e = Event.__table__
    kinds = {rule.trigger for rule in rules}
    ids: dict[str, list[int]] = {}
    # by the unique key (workspace, dedupe key) alone: the types and customers sorted here
    found = select(e.c.id, e.c.type, e.c.customer_id).where(
        e.c.workspace_id == workspace_id, among(session, e.c.dedupe_key, event_keys)
    )
    for id_, type_, customer_id in session.execute(found).all():
        if type_ in kinds and customer_id is not None:
            ids.setdefault(type_, []).append(id_)
    zone = None  # the workspace's time zone, read once for the batch's rules
    if any(rule.conditions not in (None, [], {}) for rule in rules if rule.trigger in ids):
        from hub.automation.clauses import workspace_zone

        zone = workspace_zone(workspace_id, session)
    fired: list[tuple[Rule, list[Any]]] = []
    for kind in ids:  # all the rules of a trigger in one statement
        mine = [rule for rule in rules if rule.trigger == kind]
        if mine:
            new = insert_batch_runs(session, mine, ids[kind], now, zone)
            fired += [(rule, new[rule.id]) for rule in mine if rule.id in new]
    fired.sort(key=lambda pair: pair[0].id)  # rule order, as when each rule fired in turn
    acts.apply_many(session, fired, now)
    return sum(len(runs) for _rule, runs in fired)


# ---------------------------------------------------------------- backfill and dry run


def past_source(session: Session, rule: Rule, now: datetime) -> Select:
    """Everything the rule would fire on now had it always existed."""
    if rule.trigger in TIME_TRIGGERS:
        return triggers.time_source(rule, now, since=None)
    return event_source(rule, now)


def backfill(session: Session, rule: Rule, now: datetime, *, confirm: bool) -> int:
    """How many past events the rule would fire on (not fired before); with ``confirm`` fire
    them (runs with outcome "backfill"). The caller commits."""
    source = past_source(session, rule, now)
    runs = RuleRun.__table__
    src = source.subquery("src")
    new = (
        select(func.count())
        .select_from(src)
        .where(~exists().where(runs.c.rule_id == rule.id, runs.c.event_key == src.c.event_key))
    )
    if not confirm:
        return session.scalar(new) or 0
    done = fire(session, rule, source, now, outcome="backfill")
    rule.backfilled_at = now
    return done


def dry_run(session: Session, rule: Rule, now: datetime, last: int) -> list[dict[str, Any]]:
    """The last ``last`` events of the rule's trigger type (newest first), each with whether it
    would fire the rule and whether it did; for a time rule, what the scheduler would fire
    it on now (``triggers.dry_run``). Writes nothing."""
    if rule.trigger in TIME_TRIGGERS:
        return triggers.dry_run(session, rule, now, last)
    e = Event.__table__.alias("e")
    runs = RuleRun.__table__
    kind = rule.trigger
    clause = condition_clause(rule, e, now)
    would = literal(True) if clause is None else case((clause, True), else_=False)
    fired = exists().where(runs.c.rule_id == rule.id, runs.c.event_id == e.c.id)
    stmt = (
        select(e.c.id, e.c.type, e.c.occurred_at, e.c.amount, e.c.source, e.c.customer_id,
               e.c.order_id, would.label("would"), fired.label("fired"))
        .where(e.c.workspace_id == rule.workspace_id, e.c.type == kind)
        .order_by(e.c.occurred_at.desc(), e.c.id.desc())
        .limit(last)
    )  # fmt: skip
    return [
        {
            "event": acts.event_part(r),
            "customer_id": r.customer_id,
            "would_fire": bool(r.would) and r.customer_id is not None,
            "fired": bool(r.fired),
        }
        for r in session.execute(stmt)
    ]


__all__ = ["ACTIONS", "STAGES", "TRIGGERS", "backfill", "dry_run", "fire_for_batch", "validate"]
