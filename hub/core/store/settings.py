"""The store's half of event settings (Y10): reads the workspace's settings and the stages of
the customers hit, writes the changes planned by ``hub.core.plan.settings``."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from hub.core import postgres
from hub.core.plan import settings as plan
from hub.core.sqlite.sql import executemany_raw
from hub.core.store.sql import fetch_by, is_postgres, is_sqlite
from hub.models import Customer, EventSetting, utcnow
from hub.models.types import sqlite_utc_text

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
