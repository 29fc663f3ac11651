"""Requesting syncs: one run per store at a time (a compare-and-set on
``connections.active_run_id``), joining a running one, resuming one whose worker died."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from rq.job import Job
from sqlalchemy import select, update

from hub.core.errors import Conflict, NotFound
from hub.extensions import db, redis_connection
from hub.models import Connection, SyncRun, utcnow
from hub.sync.queues import SYNC, queue

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running", "retrying")
JOB_FUNC = "hub.sync.jobs.run_sync"


def request_sync(
    workspace_id: int, connection_id: int, *, full: bool = False, trigger: str = "manual"
) -> SyncRun:
    """Start a sync of one store, or join the one already running (returned as is)."""
    conn = _connection(workspace_id, connection_id)
    _check_syncable(conn)
    for _ in range(5):
        run = _active_run(conn.id) or _start(conn, full=full, trigger=trigger)
        if run is not None:
            return run
    raise Conflict("the store's sync state kept changing; try again")  # pragma: no cover


def request_sync_all(
    workspace_id: int, *, full: bool = False, trigger: str = "manual"
) -> list[SyncRun]:
    """Sync every bound store of the workspace whose sync is not disabled (Y3)."""
    ids = db.session.scalars(
        select(Connection.id)
        .where(Connection.workspace_id == workspace_id, Connection.bound_key.is_not(None))
        .where(Connection.sync_mode != "disabled")
        .order_by(Connection.id)
    ).all()
    return [request_sync(workspace_id, cid, full=full, trigger=trigger) for cid in ids]


def _connection(workspace_id: int, connection_id: int) -> Connection:
    conn = db.session.scalar(
        select(Connection).where(
            Connection.id == connection_id, Connection.workspace_id == workspace_id
        )
    )
    if conn is None:
        raise NotFound(f"store {connection_id} does not exist in this workspace")
    return conn


def _check_syncable(conn: Connection) -> None:
    if not conn.is_bound:
        raise Conflict(f"store {conn.name!r} is unbound; bind it again to sync it")
    if conn.sync_mode == "disabled":
        raise Conflict("sync is disabled for this store; change its sync settings")


def _start(conn: Connection, *, full: bool, trigger: str) -> SyncRun | None:
    """Insert a run and claim the store with a CAS; None when another request won."""
    run = SyncRun(
        workspace_id=conn.workspace_id,
        connection_id=conn.id,
        status="queued",
        full=full,
        trigger=trigger,
        heartbeat_at=utcnow(),
    )
    db.session.add(run)
    db.session.flush()
    claimed = db.session.execute(
        update(Connection)
        .where(Connection.id == conn.id, Connection.active_run_id.is_(None))
        .values(active_run_id=run.id)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return None
    run.job_id = f"sync-run-{run.id}"
    db.session.commit()
    enqueue_run(run)
    return run


def _active_run(connection_id: int) -> SyncRun | None:
    """The store's unfinished run (resumed first if its worker died), else None."""
    active_id = db.session.scalar(
        select(Connection.active_run_id).where(Connection.id == connection_id)
    )
    if active_id is None:
        return None
    run = db.session.get(SyncRun, active_id, populate_existing=True)
    if run is None or run.status not in ACTIVE:
        release(connection_id, active_id)
        return None
    if is_stale(run):
        resume(run)
    return run


def is_stale(run: SyncRun) -> bool:
    """Running with an old heartbeat (its worker died), or waiting for a job RQ lost."""
    last = run.heartbeat_at or run.started_at or run.requested_at
    if last > utcnow() - timedelta(seconds=current_app.config["SYNC_STALE_SECONDS"]):
        return False
    if run.status == "running":
        return True
    return not run.job_id or not Job.exists(run.job_id, connection=redis_connection())


def resume(run: SyncRun) -> bool:
    """Re-enqueue a stale run (same row, trigger "resume"). The CAS on ``job_id`` makes one
    resumer win, and tells the old worker, should it still live, that it lost the run."""
    old_job, new_job = run.job_id, next_job_id(run)
    won = db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.status.in_(ACTIVE))
        .where(SyncRun.job_id.is_(None) if old_job is None else SyncRun.job_id == old_job)
        .values(status="queued", trigger="resume", job_id=new_job, heartbeat_at=utcnow())
    ).rowcount
    db.session.commit()
    db.session.refresh(run)
    if won == 1:
        log.warning("sync run %s was stale (worker gone); resumed as %s", run.id, new_job)
        enqueue_run(run)
    return won == 1


def resume_stale_runs() -> list[int]:
    """Find and resume every stale run, in every workspace (called by the periodic tick)."""
    runs = db.session.scalars(select(SyncRun).where(SyncRun.status.in_(ACTIVE))).all()
    return [run.id for run in runs if is_stale(run) and resume(run)]


def next_job_id(run: SyncRun) -> str:
    """``sync-run-<id>``, then ``sync-run-<id>-2``, ``-3``...: one RQ job per attempt, so a
    finishing old job never overwrites the hash of the job that replaces it."""
    base = f"sync-run-{run.id}"
    suffix = (run.job_id or base).removeprefix(base).lstrip("-")
    return f"{base}-{int(suffix or 1) + 1}"


def enqueue_run(run: SyncRun, delay: float | None = None) -> Job:
    """Put the run's job on the sync queue, now or after ``delay`` seconds (a retry)."""
    options = {
        "job_id": run.job_id,
        "job_timeout": current_app.config.get("SYNC_JOB_TIMEOUT", 6 * 3600),
        "result_ttl": 24 * 3600,
        "failure_ttl": 7 * 24 * 3600,
        "description": f"sync run {run.id} of store {run.connection_id}",
    }
    if delay:
        return queue(SYNC).enqueue_in(timedelta(seconds=delay), JOB_FUNC, run.id, **options)
    return queue(SYNC).enqueue(JOB_FUNC, run.id, **options)


def release(connection_id: int, run_id: int) -> None:
    """Free the store for the next run (CAS: only if this run still holds it)."""
    db.session.execute(
        update(Connection)
        .where(Connection.id == connection_id, Connection.active_run_id == run_id)
        .values(active_run_id=None)
    )
    db.session.commit()
