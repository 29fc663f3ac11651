"""The firing of a rule, shared by the batch (``rules.fire_for_batch``), the scheduler
(``triggers``) and the backfill: the rule's conditions compiled over an events row, one
INSERT … SELECT … ON CONFLICT DO NOTHING of the runs a source gives under UNIQUE (rule_id,
event_key), and the actions of the new runs. In the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import JSON, Integer, String, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql import ColumnElement, Select

from hub.automation import actions as acts
from hub.automation.sqlsets import among
from hub.models import Event, Rule, RuleRun
from hub.models.types import UTCDateTime


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


def event_source(
    rule: Rule, now: datetime, *, ids: Sequence[int] | None = None, zone: tzinfo | None = None
) -> Select:
    """(event_key, event_id, customer_id) of the events of the rule's trigger that satisfy its
    conditions: among ``ids`` (a batch's events of the rule's trigger, with a customer, in its
    workspace: the primary key alone drives the query), or all of the workspace's."""
    e = Event.__table__.alias("e")
    stmt = select(e.c.dedupe_key.label("event_key"), e.c.id.label("event_id"), e.c.customer_id)
    if ids is not None:
        session = object_session(rule)
        assert session is not None
        # no workspace/type terms: SQLite would read them through ix_events_ws_type_time,
        # every event of the type in the workspace, rather than the batch's ids
        stmt = stmt.where(among(session, e.c.id, ids))
    else:
        stmt = stmt.where(e.c.workspace_id == rule.workspace_id, e.c.type == rule.trigger,
                          e.c.customer_id.is_not(None))  # fmt: skip
    clause = condition_clause(rule, e, now, zone)
    return stmt if clause is None else stmt.where(clause)


def insert_runs(
    session: Session, rule: Rule, source: Select, now: datetime, outcome: str = "done"
) -> list[Any]:
    """One INSERT … SELECT … ON CONFLICT DO NOTHING of the runs ``source`` gives (columns
    event_key, event_id, customer_id); the new runs (id, event_id, customer_id)."""
    runs = RuleRun.__table__
    src = source.subquery("src")
    rows = select(
        literal(rule.id, Integer()), literal(rule.workspace_id, Integer()), src.c.event_key,
        src.c.event_id, src.c.customer_id, literal(acts.taken(rule.actions), JSON()),
        literal(outcome, String()), literal(now, UTCDateTime()),
    ).where(literal(True))  # fmt: skip
    columns = ["rule_id", "workspace_id", "event_key", "event_id", "customer_id", "actions",
               "outcome", "created_at"]  # fmt: skip
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(runs)
        .from_select(columns, rows)
        .on_conflict_do_nothing(index_elements=["rule_id", "event_key"])
        .returning(runs.c.id, runs.c.event_id, runs.c.customer_id)
    )
    return list(session.execute(stmt).all())


def fire(session: Session, rule: Rule, source: Select, now: datetime, outcome: str = "done") -> int:
    """Record the runs ``source`` gives that are new and apply the rule's actions to them.
    How many runs."""
    new = insert_runs(session, rule, source, now, outcome)
    if new:
        acts.apply(session, rule, new, now)
    return len(new)
