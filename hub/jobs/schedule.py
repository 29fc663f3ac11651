"""Automatic sync: the fan-out requests a sync (trigger "auto") for every bound store in
automatic mode whose interval (``Connection.sync_interval``, Y5) has passed, and re-queues webhook
deliveries stranded in ``received``. Every worker's maintenance loop (hub.jobs.maintenance)
runs it once per ``HUB_AUTOSYNC_TICK_SECONDS`` across all workers: no job in Redis holds the
schedule, so nothing is lost when Redis loses its data."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from hub.automation import triggers
from hub.core.errors import Conflict, NotFound
from hub.extensions import db
from hub.inbox import processing as inbox
from hub.models import Connection, utcnow
from hub.services import connections
from hub.sync import service

log = logging.getLogger(__name__)

# A delivery still "received" this long after arriving was never handed to a worker
# (HUB_WEBHOOK_STRANDED_SECONDS overrides it).
STRANDED_SECONDS = 300


def due_connections(now: datetime | None = None) -> list[Connection]:
    """Bound stores in automatic mode, not syncing, whose interval has passed."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Connection)
        .where(Connection.bound_key.is_not(None), Connection.sync_mode == "auto")
        .where(Connection.active_run_id.is_(None))
        .order_by(Connection.id)
    ).all()
    return [
        c
        for c in candidates
        if c.last_sync_at is None or c.last_sync_at + connections.sync_interval(c) <= now
    ]


def fire_time_rules(now: datetime) -> int:
    """The time-based rules (A1: abandoned checkout, no purchase), set-based, committed. A
    failure is logged and rolled back: the syncs are still requested."""
    try:
        fired = triggers.schedule_tick(db.session, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("time-based rules failed")
        return 0
    return fired


def tick(now: datetime | None = None) -> dict[str, list[int]]:
    """One fan-out: re-queue webhook deliveries stranded by a lost hand-over, then request the
    due syncs. Never raises for one store. Returns the ids of the runs started."""
    stranded = float(current_app.config.get("WEBHOOK_STRANDED_SECONDS", STRANDED_SECONDS))
    inbox.requeue_received(older_than=stranded)
    fire_time_rules(now or utcnow())
    started: list[int] = []
    for conn in due_connections(now):
        try:
            run = service.request_sync(conn.workspace_id, conn.id, trigger="auto")
        except (Conflict, NotFound) as exc:
            log.info("auto-sync of store %s skipped: %s", conn.id, exc)
            continue
        started.append(run.id)
    return {"started": started}


def reconcile_sales() -> int:
    """The daily reconciliation of third-party sales (W5): every product of every platform
    the hub migrates from, counted again from the orders in the hub. How many changed."""
    from hub import registry
    from hub.core.store import sales

    sources = [p for p, cls in registry.connectors().items() if "migrate" in cls.capabilities]
    changed = sales.refresh_sources(db.session, sources)
    db.session.commit()
    if changed:
        log.info("third-party sales: %d products counted again", changed)
    return changed
