"""Automatic sync: a periodic fan-out job requests a sync (trigger "auto") for every bound
store in automatic mode whose interval (30..1440 minutes, Y5) has passed, and resumes runs
whose worker died. One chain of ticks exists, under a fixed job id."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app
from rq.job import Job, JobStatus
from rq.repeat import Repeat
from sqlalchemy import select

from hub.core.errors import Conflict, NotFound
from hub.extensions import db, redis_connection
from hub.models import Connection, utcnow
from hub.sync import inbox, service
from hub.sync.queues import SYNC, queue

log = logging.getLogger(__name__)

TICK_JOB_ID = "hub-autosync-tick"
MIN_INTERVAL, MAX_INTERVAL, DEFAULT_INTERVAL = 30, 1440, 60
FOREVER = 10**9  # RQ's Repeat needs a count; at one tick a minute this outlives us all
LIVE = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}


def interval_minutes(conn: Connection) -> int:
    """The store's interval, kept within Y5's bounds."""
    minutes = conn.sync_interval_minutes or DEFAULT_INTERVAL
    return max(MIN_INTERVAL, min(MAX_INTERVAL, minutes))


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
        if c.last_sync_at is None or c.last_sync_at + timedelta(minutes=interval_minutes(c)) <= now
    ]


# A delivery still "received" this long after arriving was never handed to a worker
# (HUB_WEBHOOK_STRANDED_SECONDS overrides it).
STRANDED_SECONDS = 300


def tick(now: datetime | None = None) -> dict[str, list[int]]:
    """One fan-out: resume stale runs, re-queue webhook deliveries stranded by a Redis outage
    or a lost drain job, then request the due syncs. Never raises for one store, so the chain
    of ticks goes on."""
    resumed = service.resume_stale_runs()
    stranded = float(current_app.config.get("WEBHOOK_STRANDED_SECONDS", STRANDED_SECONDS))
    inbox.requeue_received(older_than=stranded)
    started: list[int] = []
    for conn in due_connections(now):
        try:
            run = service.request_sync(conn.workspace_id, conn.id, trigger="auto")
        except (Conflict, NotFound) as exc:
            log.info("auto-sync of store %s skipped: %s", conn.id, exc)
            continue
        started.append(run.id)
    return {"resumed": resumed, "started": started}


def ensure_scheduled() -> Job | None:
    """Start the chain of ticks unless one is alive. Called when a worker starts."""
    connection = redis_connection()
    job = Job.fetch(TICK_JOB_ID, connection=connection) if _exists(connection) else None
    if job is not None and job.get_status(refresh=True) in LIVE and not _abandoned(job):
        return None
    if job is not None:
        job.delete()
    seconds = int(current_app.config["AUTOSYNC_TICK_SECONDS"])
    return queue(SYNC).enqueue_in(
        timedelta(seconds=1),
        "hub.sync.jobs.autosync_tick",
        job_id=TICK_JOB_ID,
        repeat=Repeat(times=FOREVER, interval=seconds),
        result_ttl=max(seconds * 3, 600),
        description="auto-sync fan-out",
    )


def _exists(connection: object) -> bool:
    return Job.exists(TICK_JOB_ID, connection=connection)


def _abandoned(job: Job) -> bool:
    """A tick marked started whose worker stopped beating (killed mid-tick)."""
    if job.get_status() != JobStatus.STARTED:
        return False
    beat = job.last_heartbeat or job.started_at
    if beat is None:
        return True
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return beat < datetime.now(UTC) - timedelta(minutes=5)
