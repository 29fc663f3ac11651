"""Requesting syncs: one run per store at a time (a compare-and-set on
``connections.active_run_id``), joining a running one, resuming one whose worker died.

The run's row is the request: it is committed before its job is put on the queue. When Redis
cannot be reached the row stays ``queued`` and QueueUnavailable says so; a queued run whose
job Redis does not hold is handed to the queue again by the next request or maintenance pass
(``resume_stale_runs``), as is a running one whose worker stopped beating. A run whose job
ended failed by an error of its own before the run recorded its end (it raised before marking
the run, or while recording its failure) is failed by that pass (``fail_orphaned_runs``): it
would fail again at every resume; a job that died with its work horse or worker is X2's and is
resumed."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from hub.core.errors import Conflict, QueueUnavailable
from hub.extensions import db, redis_connection
from hub.jobs.queues import REDIS_DOWN, SYNC, queue
from hub.models import Connection, SyncRun, utcnow
from hub.services import connections

log = logging.getLogger(__name__)

JOB_FUNC = "hub.sync.jobs.run_sync"
LIVE_JOB = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}
# A queued run whose job Redis does not hold after this long was never handed over (Redis was
# down), or was lost with Redis's data: it is handed over again.
HANDOVER_GRACE_SECONDS = 10


def request_sync(
    workspace_id: int, connection_id: int, *, full: bool = False, trigger: str = "manual"
) -> SyncRun:
    """Start a sync of one store, or join the one already running (returned as is)."""
    conn = connections.get(workspace_id, connection_id)
    connections.ensure_syncable(conn)
    for _ in range(5):
        run = _active_run(conn.id) or _start(conn, full=full, trigger=trigger)
        if run is not None:
            return run
    raise Conflict("the store's sync state kept changing; try again")  # pragma: no cover


def request_sync_all(
    workspace_id: int, *, full: bool = False, trigger: str = "manual"
) -> list[SyncRun]:
    """Sync every bound store of the workspace whose sync is not disabled (Y3). With Redis
    down every store's run is still recorded, then QueueUnavailable names them all."""
    ids = db.session.scalars(
        select(Connection.id)
        .where(Connection.workspace_id == workspace_id, Connection.bound_key.is_not(None))
        .where(Connection.sync_mode != "disabled")
        .order_by(Connection.id)
    ).all()
    runs, waiting = [], []
    for cid in ids:
        try:
            runs.append(request_sync(workspace_id, cid, full=full, trigger=trigger))
        except QueueUnavailable as exc:
            waiting += exc.run_ids
    if waiting:
        raise queue_unavailable(waiting)
    return runs


def queue_unavailable(run_ids: list[int]) -> QueueUnavailable:
    """The error telling that these runs are kept and wait for the queue."""
    named = ", ".join(str(i) for i in run_ids)
    runs = f"sync run {named} is" if len(run_ids) == 1 else f"sync runs {named} are"
    return QueueUnavailable(
        f"the queue is unavailable; {runs} kept and will start when the queue is back",
        run_ids=list(run_ids),
    )


def start_run(conn: Connection, *, full: bool, trigger: str) -> SyncRun | None:
    """Start a run of this trigger (a migration, W3) unless one is active: None then."""
    return _start(conn, full=full, trigger=trigger)


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
    _hand_over(run)
    return run


def _hand_over(run: SyncRun) -> None:
    """Put the committed run's job on the queue; QueueUnavailable when Redis is down."""
    try:
        enqueue_run(run)
    except REDIS_DOWN as exc:
        log.warning("sync run %s waits for the queue: %s", run.id, exc)
        raise queue_unavailable([run.id]) from exc


def _active_run(connection_id: int) -> SyncRun | None:
    """The store's unfinished run (resumed first if its worker died), else None."""
    active_id = db.session.scalar(
        select(Connection.active_run_id).where(Connection.id == connection_id)
    )
    if active_id is None:
        return None
    run = db.session.get(SyncRun, active_id, populate_existing=True)
    if run is None or run.status not in SyncRun.ACTIVE:
        release(connection_id, active_id)
        return None
    if is_stale(run):
        resume(run)
    return run


def is_stale(run: SyncRun) -> bool:
    """Running with an old heartbeat (its worker died), or waiting for a job that Redis does
    not hold, or holds as ended (Redis was down, lost its data, or the job died early)."""
    if run.status == "running":
        return _silent_for(run, current_app.config["SYNC_STALE_SECONDS"])
    if not _silent_for(run, HANDOVER_GRACE_SECONDS):
        return False
    try:
        return not _job_alive(run.job_id)
    except REDIS_DOWN as exc:
        raise queue_unavailable([run.id]) from exc


def _silent_for(run: SyncRun, seconds: float) -> bool:
    last = run.heartbeat_at or run.started_at or run.requested_at
    return last <= utcnow() - timedelta(seconds=seconds)


def _job_alive(job_id: str | None) -> bool:
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in LIVE_JOB


def resume(run: SyncRun) -> bool:
    """Re-enqueue a stale run (same row; trigger "resume" once it had started). The CAS on
    ``job_id`` makes one resumer win, and tells the old worker, should it still live, that it
    lost the run. QueueUnavailable when Redis is down: the run stays stale for the next try."""
    old_job, new_job = run.job_id, next_job_id(run)
    # A migration stays one (W3: its rules stay locked, its counts are made at the end).
    trigger = "resume" if run.started_at and run.trigger != "migration" else run.trigger
    won = db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.status.in_(SyncRun.ACTIVE))
        .where(SyncRun.job_id.is_(None) if old_job is None else SyncRun.job_id == old_job)
        .values(status="queued", trigger=trigger, job_id=new_job, heartbeat_at=utcnow())
    ).rowcount
    db.session.commit()
    db.session.refresh(run)
    if won == 1:
        why = "was stale (worker gone)" if run.started_at else "waited for the queue"
        log.warning("sync run %s %s; queued as %s", run.id, why, new_job)
        _hand_over(run)
    return won == 1


# How RQ words the failure of a job that did not raise: its work horse was killed, its worker
# vanished (the started registry's cleanup), it was stopped, or it never left RQ's queue.
# A job that raised has the traceback of its error instead.
RAISED = "Traceback (most recent call last)"
ORPHAN_MESSAGE = "the sync job stopped with an error before the run finished: %s"


def job_error(job_id: str | None) -> str | None:
    """The error (its last line) the job raised when it ended failed by an error of its own;
    None when it is alive, finished, not in Redis, or died with its work horse or worker."""
    if not job_id:
        return None
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None
    if job.get_status(refresh=False) != JobStatus.FAILED:
        return None
    result = job.latest_result()
    text = (result.exc_string if result is not None else None) or ""
    if not text.startswith(RAISED):
        return None
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "an unknown error"


def fail_if_orphaned(run: SyncRun) -> bool:
    """Fail the active run when its job ended failed by an error of its own (``job_error``),
    with a plain message, and free its store; True if it did. A CAS on the job id: a run
    resumed or retried meanwhile (a new job) is left alone."""
    if run.status not in SyncRun.ACTIVE:
        return False
    job_id = run.job_id
    error = job_error(job_id)
    if error is None:
        return False
    now = utcnow()
    message = ORPHAN_MESSAGE % error
    won = db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.status.in_(SyncRun.ACTIVE), SyncRun.job_id == job_id)
        .values(status="failed", finished_at=now, error_class="system", error_message=message)
    ).rowcount
    if won == 1:
        db.session.execute(
            update(Connection).where(Connection.id == run.connection_id).values(last_sync_at=now)
        )
        release(run.connection_id, run.id, commit=False)
        log.error("sync run %s failed: %s (job %s)", run.id, message, job_id)
    db.session.commit()
    db.session.refresh(run)
    return won == 1


def fail_orphaned_runs() -> list[int]:
    """Fail every active run whose job raised before the run ended (each worker's
    maintenance, before ``resume_stale_runs``)."""
    runs = db.session.scalars(select(SyncRun).where(SyncRun.status.in_(SyncRun.ACTIVE))).all()
    return [run.id for run in runs if fail_if_orphaned(run)]


def resume_stale_runs() -> list[int]:
    """Find and resume every stale run, in every workspace (each worker's maintenance)."""
    runs = db.session.scalars(select(SyncRun).where(SyncRun.status.in_(SyncRun.ACTIVE))).all()
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


def take_here(run: SyncRun) -> str | None:
    """Take a queued run away from the queue to run it in this process (``hub sync --inline``):
    a new job id by CAS, so a worker that dequeues the old job finds it superseded, and the old
    job removed from Redis when it can be. The job id to run it under, or None when the run
    already started elsewhere (then wait for it instead)."""
    if run.status != "queued":
        return None
    old_job, new_job = run.job_id, next_job_id(run)
    won = db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.status == "queued")
        .where(SyncRun.job_id.is_(None) if old_job is None else SyncRun.job_id == old_job)
        .values(job_id=new_job, heartbeat_at=utcnow())
    ).rowcount
    db.session.commit()
    if won != 1:
        return None
    if old_job:
        try:
            Job.fetch(old_job, connection=redis_connection()).delete()
        except (NoSuchJobError, *REDIS_DOWN):
            pass  # never handed over, or Redis is down: the old job id is superseded anyway
    return new_job


def release(connection_id: int, run_id: int, *, commit: bool = True) -> None:
    """Free the store for the next run (CAS: only if this run still holds it). A run that
    ends passes ``commit=False`` and commits it with its final status: a worker killed in
    between must not leave a finished run holding its store."""
    db.session.execute(
        update(Connection)
        .where(Connection.id == connection_id, Connection.active_run_id == run_id)
        .values(active_run_id=None)
    )
    if commit:
        db.session.commit()
