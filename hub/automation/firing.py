"""The firing of rules, shared by the batch (``rules.fire_for_batch``), the scheduler
(``triggers``) and the backfill: a rule's conditions compiled over an events row, one
INSERT … SELECT … ON CONFLICT DO NOTHING of the runs a source gives under UNIQUE (rule_id,
event_key), and the actions of the new runs. A batch fires all the rules of one trigger in one
such statement (``insert_batch_runs``). In the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import JSON, Integer, String, literal, select, true, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql import ColumnElement, Select

from hub.automation import actions as acts
from hub.automation.sqlsets import among
from hub.models import Event, Rule, RuleRun
from hub.models.types import UTCDateTime

_RUN_COLUMNS = ["rule_id", "workspace_id", "event_key", "event_id", "customer_id", "actions",
                "outcome", "created_at"]  # fmt: skip


# the events' columns a batch's statement reads: the run's own and every column a condition
# reads (``clauses._col``); a condition reading another fails loudly (no such column of "b")
_BATCH_COLUMNS = ("id", "dedupe_key", "customer_id", "order_id", "amount", "source")


def condition_clause(
    rule: Rule, event: Any, now: datetime, zone: tzinfo | None = None
) -> ColumnElement[bool] | None:
    """The rule's conditions over an events row (None: no conditions); ``zone``: the
    workspace's time zone if the caller has read it."""
    if rule.conditions in (None, [], {}):
        return None
    from hub.automation import conditions

    cond = conditions.parse(rule.conditions, where="conditions", scope="event")
    return conditions.event_clause(
        cond, workspace_id=rule.workspace_id, event=event, now=now,
        session=object_session(rule), zone=zone,
    )  # fmt: skip


def event_source(rule: Rule, now: datetime) -> Select:
    """(event_key, event_id, customer_id) of the workspace's events of the rule's trigger
    that satisfy its conditions (a backfill; a batch reads its own: ``batch_select``)."""
    e = Event.__table__.alias("e")
    stmt = select(e.c.dedupe_key.label("event_key"), e.c.id.label("event_id"), e.c.customer_id)
    stmt = stmt.where(e.c.workspace_id == rule.workspace_id, e.c.type == rule.trigger,
                      e.c.customer_id.is_not(None))  # fmt: skip
    clause = condition_clause(rule, e, now)
    return stmt if clause is None else stmt.where(clause)


def insert_runs(
    session: Session, rule: Rule, source: Select, now: datetime, outcome: str = "done"
) -> list[Any]:
    """One INSERT … SELECT … ON CONFLICT DO NOTHING of the runs ``source`` gives (columns
    event_key, event_id, customer_id); the new runs (id, event_id, customer_id)."""
    src = source.subquery("src")
    rows = _run_rows(rule, src.c.event_key, src.c.event_id, src.c.customer_id, now, outcome)
    return _insert_new(session, rows.where(literal(True)), "id", "event_id", "customer_id")


def _run_rows(
    rule: Rule, event_key: Any, event_id: Any, customer_id: Any, now: datetime, outcome: str
) -> Select:
    """A SELECT of ``_RUN_COLUMNS``: the rule's own values beside the event's columns."""
    return select(
        literal(rule.id, Integer()), literal(rule.workspace_id, Integer()), event_key, event_id,
        customer_id, literal(acts.taken(rule.actions), JSON()), literal(outcome, String()),
        literal(now, UTCDateTime()),
    )  # fmt: skip


def _insert_new(session: Session, rows: Any, *returning: str) -> list[Any]:
    """INSERT the runs ``rows`` gives, those already recorded (UNIQUE rule_id, event_key) left
    out; the new ones' ``returning`` columns."""
    runs = RuleRun.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(runs)
        .from_select(_RUN_COLUMNS, rows)
        .on_conflict_do_nothing(index_elements=["rule_id", "event_key"])
        .returning(*(runs.c[name] for name in returning))
    )
    return list(session.execute(stmt).all())


def batch_select(
    session: Session,
    rules: Sequence[Rule],
    ids: Sequence[int],
    now: datetime,
    zone: tzinfo | None = None,
) -> Any:
    """The runs (``_RUN_COLUMNS``) of ``rules`` (all of one trigger, one workspace) on a
    batch's events ``ids`` (of that trigger, with a customer): the batch's events listed and
    read once, in a CTE every branch reads (the primary key alone drives it: a workspace or
    type term would have SQLite read every event of the type through ix_events_ws_type_time),
    and each rule's conditions evaluated over them in a branch of its own (one CASE over all
    the rules cost a third more: every event was tested against every rule's id)."""
    events = Event.__table__
    read = [events.c[name] for name in _BATCH_COLUMNS]
    b = select(*read).where(among(session, events.c.id, ids)).cte("b")
    branches = []
    for rule in rules:
        branch = _run_rows(rule, b.c.dedupe_key, b.c.id, b.c.customer_id, now, "done")
        clause = condition_clause(rule, b, now, zone)
        # a WHERE in every branch: SQLite would read "ON CONFLICT" as a join's ON otherwise
        branches.append(branch.where(true() if clause is None else clause))
    return union_all(*branches) if len(branches) > 1 else branches[0]


def insert_batch_runs(
    session: Session,
    rules: Sequence[Rule],
    ids: Sequence[int],
    now: datetime,
    zone: tzinfo | None = None,
) -> dict[int, list[Any]]:
    """``batch_select``'s runs in ONE INSERT … SELECT … ON CONFLICT DO NOTHING; the new runs
    (rows: rule_id, id, event_id, customer_id) by rule id."""
    rows = batch_select(session, rules, ids, now, zone)
    new: dict[int, list[Any]] = {}
    for run in _insert_new(session, rows, "rule_id", "id", "event_id", "customer_id"):
        new.setdefault(run[0], []).append(run)
    return new


def fire(session: Session, rule: Rule, source: Select, now: datetime, outcome: str = "done") -> int:
    """Record the runs ``source`` gives that are new and apply the rule's actions to them.
    How many runs."""
    new = insert_runs(session, rule, source, now, outcome)
    if new:
        acts.apply(session, rule, new, now)
    return len(new)
