"""The store's half of event settings (Y10): reads the workspace's settings and the stages of
the customers hit, writes the changes planned by ``hub.core.plan.settings``."""

from __future__ import annotations

from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from hub.core import postgres
from hub.core.plan import settings as plan
from hub.core.plan.rows import EVENT_COLUMNS
from hub.core.sqlite.sql import executemany_raw
from hub.core.store.firsts import FIRST_PURCHASE
from hub.core.store.sql import fetch_by, is_postgres, is_sqlite
from hub.models import Customer, Event, EventSetting, utcnow
from hub.models.types import UTCDateTime, sqlite_utc_text

_SETTINGS_UPDATE = (
    'UPDATE "customers" SET "stage" = ?, "activity_score" = "activity_score" + ?, '
    '"updated_at" = ? WHERE "id" = ?'
)


def apply_event_settings(
    session: Session, workspace_id: int, events: list[tuple[str, int | None]]
) -> None:
    """Stage advancement and activity score of each recorded event (Y10), given as
    (event type, customer id) pairs."""
    settings = {
        s.event_type: s
        for s in session.scalars(
            select(EventSetting).where(EventSetting.workspace_id == workspace_id)
        )
        if s.score_delta or s.advance_to_stage
    }
    if not settings:
        return
    hits = plan.effects(settings, events)
    if not hits:
        return
    stages = dict(fetch_by(session, Customer.__table__, ["id", "stage"], "id", hits))
    write_changes(session, plan.changes(hits, stages))


def write_changes(session: Session, changes: list[tuple[str | None, int, int]]) -> None:
    """(stage, score to add, customer id) rows in one statement or one executemany: on SQLite
    on the driver's cursor; on PostgreSQL one UPDATE ... FROM unnest(...), the score added."""
    now = utcnow()
    if is_sqlite(session):
        stamp = sqlite_utc_text(now)
        rows = [(stage, delta, stamp, cid) for stage, delta, cid in changes]
        executemany_raw(session, _SETTINGS_UPDATE, rows)
        return
    table = Customer.__table__
    if is_postgres(session):
        dicts = [
            {"id": cid, "stage": stage, "activity_score": delta, "updated_at": now}
            for stage, delta, cid in changes
        ]
        postgres.update_many(session, table, dicts, add=("activity_score",))
        return
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values(
            stage=bindparam("_stage"),
            activity_score=table.c.activity_score + bindparam("_delta"),
            updated_at=now,
        ),
        [{"_stage": stage, "_delta": delta, "_id": cid} for stage, delta, cid in changes],
    )


def cast_result(result: Any) -> CursorResult[Any]:
    """An INSERT or UPDATE's result, whose ``rowcount`` says how many rows it wrote."""
    return cast_type(CursorResult[Any], result)


def _rank(column: Any) -> Any:
    """A stage's place in STAGES (1 = the first), 0 for none or an unknown one."""
    return case({stage: i for i, stage in enumerate(plan.STAGES, 1)}, value=column, else_=0)


def _with_events(workspace_id: int) -> Any:
    """The live customers of the workspace that have recorded events."""
    c, e = Customer.__table__, Event.__table__
    return and_(
        c.c.workspace_id == workspace_id,
        c.c.merged_into_id.is_(None),
        exists().where(e.c.customer_id == c.c.id),
    )


def customers_with_events(session: Session, workspace_id: int) -> int:
    """How many customers ``recompute`` would recompute."""
    c = Customer.__table__
    stmt = select(func.count()).select_from(c).where(_with_events(workspace_id))
    return session.scalar(stmt) or 0


def record_missing_firsts(session: Session, workspace_id: int) -> int:
    """One INSERT ... SELECT: a first purchase for each customer whose purchases have none, at
    the earliest (recorded before first purchases were)."""
    e, e2, fp = Event.__table__, Event.__table__.alias("e2"), Event.__table__.alias("fp")
    earliest = (
        select(e2.c.id)
        .where(e2.c.customer_id == e.c.customer_id, e2.c.type == "purchase")
        .order_by(e2.c.occurred_at, e2.c.id)
        .limit(1)
        .scalar_subquery()
    )
    rows = select(
        e.c.workspace_id, e.c.customer_id, e.c.order_id, literal(FIRST_PURCHASE),
        e.c.occurred_at, e.c.amount, e.c.source, e.c.properties,
        literal(FIRST_PURCHASE + ":") + cast(e.c.customer_id, String),
        literal(utcnow(), UTCDateTime()),
    ).where(
        e.c.workspace_id == workspace_id,
        e.c.type == "purchase",
        e.c.customer_id.is_not(None),
        e.c.id == earliest,
        ~exists().where(fp.c.customer_id == e.c.customer_id, fp.c.type == FIRST_PURCHASE),
    )  # fmt: skip
    done = cast_result(session.execute(insert(e).from_select(EVENT_COLUMNS, rows)))
    return done.rowcount or 0


def recompute(session: Session, workspace_id: int) -> int:
    """Apply the event settings to existing customers (Y10): record the missing first
    purchases, then in one UPDATE set each customer's score to what its recorded events give
    (a first purchase counted once, even when a merge brought a second) and move its stage
    forward to the furthest its events reach (never back). Returns how many customers."""
    record_missing_firsts(session, workspace_id)
    c, e, s = Customer.__table__, Event.__table__, EventSetting.__table__
    hit = e.join(s, and_(s.c.workspace_id == e.c.workspace_id, s.c.event_type == e.c.type))
    mine = e.c.customer_id == c.c.id
    score = (
        select(func.coalesce(func.sum(s.c.score_delta), 0))
        .select_from(hit)
        .where(mine, e.c.type != FIRST_PURCHASE)
        .scalar_subquery()
    )
    first = (
        select(func.coalesce(func.max(s.c.score_delta), 0))
        .where(
            s.c.workspace_id == workspace_id,
            s.c.event_type == FIRST_PURCHASE,
            exists().where(mine, e.c.type == FIRST_PURCHASE),
        )
        .scalar_subquery()
    )
    best = (
        select(func.coalesce(func.max(_rank(s.c.advance_to_stage)), 0))
        .select_from(hit)
        .where(mine)
        .scalar_subquery()
    )
    by_rank = case({i: stage for i, stage in enumerate(plan.STAGES, 1)}, value=best)
    stage = case((best > _rank(c.c.stage), by_rank), else_=c.c.stage)
    done = cast_result(
        session.execute(
            update(c)
            .where(_with_events(workspace_id))
            .values(activity_score=score + first, stage=stage, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    return done.rowcount or 0
