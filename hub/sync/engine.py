"""Run one SyncRun: every stream of the store's connector, page by page, each page applied
through the one ingest entry with its cursor in the same transaction; a heartbeat and
progress while it runs; errors classified (configuration, transient, system)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from hub.connectors import Connector, Stream, SyncWindow
from hub.core import ingest
from hub.core.errors import classify
from hub.core.scope import cycle_collector_deferred
from hub.extensions import db
from hub.jobs.heartbeat import Heartbeat
from hub.models import Connection, Cursor, SyncRun, utcnow
from hub.services import migration
from hub.sync import window as windows
from hub.sync.batch import PageBatch, ReadPage, frozen
from hub.sync.readahead import ReadAhead
from hub.sync.runtime import connector_for, record_api_calls
from hub.sync.service import enqueue_run, next_job_id, release

log = logging.getLogger(__name__)

# Batches between two collections of the young generations while a stream is read (see
# hub.core.scope.cycle_collector_deferred): some 40,000 records at the default batch size.
COLLECT_EVERY_BATCHES = 8


class Superseded(Exception):
    """Another worker resumed this run (its job id changed): stop without writing."""


def execute(run_id: int, *, job_id: str | None = None) -> str:
    """Run the sync; returns the run's status afterwards (or "superseded")."""
    run = db.session.get(SyncRun, run_id, populate_existing=True)
    if run is None or run.status in SyncRun.FINISHED:
        return run.status if run else "missing"
    if job_id is not None and run.job_id != job_id:
        log.info("sync run %s is now held by job %s, not %s", run_id, run.job_id, job_id)
        return "superseded"
    _begin(run)
    interval = current_app.config["SYNC_HEARTBEAT_SECONDS"]
    connector: Connector | None = None
    with Heartbeat(db.engine, run.id, run.job_id, interval) as beat:
        try:
            conn = db.session.get(Connection, run.connection_id)
            connector = connector_for(conn)
            for stream in connector.streams():
                _sync_stream(run, conn, connector, stream, beat)
            if migration.is_migration(run):
                migration.finish(run, conn, connector)
        except Superseded:
            db.session.rollback()
            return "superseded"
        except Exception as exc:
            db.session.rollback()
            return _fail(run_id, exc, connector)
    return _succeed(run, connector)


def _begin(run: SyncRun) -> None:
    """Mark running; fix the window's cap at the first start (kept on resume and retry)."""
    now = utcnow()
    run.status = "running"
    run.started_at = run.started_at or now
    run.window_end = run.window_end or now
    run.heartbeat_at = now
    run.attempts = (run.attempts or 0) + 1
    db.session.commit()


def _sync_stream(
    run: SyncRun, conn: Connection, connector: Connector, stream: Stream, beat: Heartbeat
) -> None:
    state = _load_state(conn, stream.name)
    if windows.finished_by(state, run.id):
        return  # read to its end before this run was resumed: a full run would read it again
    every = connector.stream_intervals.get(stream.name)
    if run.trigger == "auto" and not windows.stream_due(state, every, run.window_end):
        return  # W7: read less often than the store's automatic syncs (products daily)
    config = current_app.config
    initial_days = int((conn.settings or {}).get("initial_days") or config["SYNC_INITIAL_DAYS"])
    window, page_state, done = windows.plan(
        state,
        run_id=run.id,
        window_end=run.window_end,
        full=run.full,
        lookback=timedelta(hours=config["SYNC_LOOKBACK_HOURS"]),
        initial=timedelta(days=initial_days),
    )
    progress = _Progress(run, conn, connector, stream, state, window, done)
    batch = PageBatch(
        int(config.get("SYNC_BATCH_RECORDS", 5000)), float(config.get("SYNC_BATCH_SECONDS", 2.0))
    )
    ahead = int(config.get("SYNC_READ_AHEAD", 0))
    source = frozen(stream.name, stream.read(window, page_state))
    # the collector paused over the stream, the young generations collected every few batches
    with cycle_collector_deferred(COLLECT_EVERY_BATCHES) as progress.collect:
        pages = ReadAhead(source, ahead, f"read-ahead-{run.id}") if ahead > 0 else iter(source)
        try:
            while True:
                try:
                    page = next(pages, None)
                except Superseded:
                    raise
                except Exception:
                    progress.apply(batch.take())  # pages read before the error stay committed
                    raise
                if beat.lost:
                    raise Superseded
                if page is None:
                    break
                if batch.repeats(page):
                    progress.apply(batch.take())
                batch.add(page)
                if batch.full():
                    progress.apply(batch.take())
        finally:
            if isinstance(pages, ReadAhead):
                pages.close()
    progress.apply(batch.take())
    _save_state(conn, stream.name, windows.finished(window, progress.max_seen, run.id))
    _own(run)
    db.session.commit()


class _Progress:
    """Applies batches of one stream: records, cursor, progress and counts in one commit."""

    def __init__(
        self,
        run: SyncRun,
        conn: Connection,
        connector: Connector,
        stream: Stream,
        state: dict[str, Any],
        window: SyncWindow,
        done: int,
    ) -> None:
        self.run, self.conn, self.connector, self.stream = run, conn, connector, stream
        self.state, self.window, self.done = state, window, done
        self.max_seen = state.get("max_seen")
        self.collect: Callable[[], None] = lambda: None  # after each batch (the engine's)

    def apply(self, page: ReadPage | None) -> None:
        if page is None:
            return
        self.max_seen = windows.advance_max(self.max_seen, page.records)
        self.done += len(page.records)
        new_state = windows.in_progress(
            self.state,
            run_id=self.run.id,
            window=self.window,
            page=page.position(),
            done=self.done,
            max_seen=self.max_seen,
        )
        result = ingest.apply(
            db.session,
            self.conn.workspace_id,
            page.records,
            connection_id=self.conn.id,
            cursor=ingest.CursorUpdate(self.conn.id, self.stream.name, new_state),
            options=ingest.IngestOptions(sales_volume=counts_sales(self.connector)),
            commit=False,
        )
        if migration.is_migration(self.run):
            migration.tally(result, self.stream.name)
        _commit_page(self.run, self.connector, page, self.done, result)
        del page, result  # the batch's records freed before the collector's turn
        self.collect()


def counts_sales(connector: Connector) -> bool:
    """W5: a store the hub migrates from keeps its products' sales volume up to date."""
    return "migrate" in connector.capabilities


def _commit_page(
    run: SyncRun, connector: Connector, page: ReadPage, done: int, result: ingest.IngestResult
) -> None:
    """Progress, counts and API calls in the page's transaction, then commit it all."""
    stream_before = done - len(page.records)
    counts = _merge_counts(run.counts or {}, result)
    take = getattr(connector, "take_counts", None)  # the connector's own (e.g. 429s survived)
    for entity, outcomes in (take() if take is not None else {}).items():
        bucket = counts.setdefault(entity, {})
        for outcome, n in outcomes.items():
            bucket[outcome] = bucket.get(outcome, 0) + n
    progress_done = (run.progress_done or 0) + len(page.records)
    total = None
    if page.total is not None:
        total = progress_done - done + max(page.total, done)
    _own(run, progress_done=progress_done, progress_total=total, counts=counts)
    record_api_calls(db.session, connector, run.connection_id, run.id)
    db.session.commit()  # expires run: the next batch reads the values just written
    log.debug("run %s: batch of %d committed (%d before it)", run.id, len(page.records),
              stream_before)  # fmt: skip


def _own(run: SyncRun, **values: Any) -> None:
    """Write to the run row only while this worker holds it (CAS on job id)."""
    stmt = update(SyncRun).where(SyncRun.id == run.id, SyncRun.job_id == run.job_id)
    values["heartbeat_at"] = utcnow()
    if db.session.execute(stmt.values(**values)).rowcount != 1:
        raise Superseded


def _merge_counts(counts: dict[str, Any], result: ingest.IngestResult) -> dict[str, Any]:
    merged = {entity: dict(outcomes) for entity, outcomes in counts.items()}
    for entity, outcomes in result.counts.items():
        bucket = merged.setdefault(entity, {})
        for outcome, n in outcomes.items():
            bucket[outcome] = bucket.get(outcome, 0) + n
    if result.suggestions:  # buyers sharing a phone with another customer: not merged
        bucket = merged.setdefault("customers", {})
        bucket["possible_duplicates"] = bucket.get("possible_duplicates", 0) + len(
            result.suggestions
        )
    if result.failures:
        bucket = merged.setdefault("record", {})
        bucket["failed"] = bucket.get("failed", 0) + len(result.failures)
    return merged


def _load_state(conn: Connection, stream: str) -> dict[str, Any]:
    state = db.session.scalar(
        select(Cursor.state).where(
            Cursor.workspace_id == conn.workspace_id,
            Cursor.connection_id == conn.id,
            Cursor.stream == stream,
        )
    )
    return dict(state or {})


def _save_state(conn: Connection, stream: str, state: dict[str, Any]) -> None:
    row = db.session.scalar(
        select(Cursor)
        .where(Cursor.connection_id == conn.id, Cursor.stream == stream)
        .execution_options(populate_existing=True)
    )
    if row is None:
        row = Cursor(workspace_id=conn.workspace_id, connection_id=conn.id, stream=stream)
        db.session.add(row)
    row.state = state


def _succeed(run: SyncRun, connector: Connector | None) -> str:
    now = utcnow()
    conn = db.session.get(Connection, run.connection_id)
    try:
        _own(run, status="succeeded", finished_at=now, error_class=None, error_message=None)
    except Superseded:
        db.session.rollback()
        return "superseded"
    conn.last_sync_at = conn.last_success_at = now
    if conn.status == "error":
        conn.status, conn.last_error = "active", None
    if connector is not None:
        record_api_calls(db.session, connector, conn.id, run.id)
        _keep_warnings(conn, connector.warnings())
    release(conn.id, run.id, commit=False)
    db.session.commit()
    return "succeeded"


def _keep_warnings(conn: Connection, warnings: list[str]) -> None:
    """Add what the connector did without in this run to the store's warnings."""
    merged = list(dict.fromkeys([*(conn.warnings or []), *warnings]))
    if merged != (conn.warnings or []):
        conn.warnings = merged


def _fail(run_id: int, exc: Exception, connector: Connector | None) -> str:
    """Record the error; retry a transient one with backoff, else fail the run."""
    run = db.session.get(SyncRun, run_id, populate_existing=True)
    conn = db.session.get(Connection, run.connection_id, populate_existing=True)
    error_class, message = classify(exc), _message(exc)
    if error_class == "system":
        log.error("sync run %s failed", run_id, exc_info=exc)
    try:
        _own(run)  # locks the row: from here to commit, nobody can take the run over
    except Superseded:
        db.session.rollback()
        return "superseded"
    run.error_class, run.error_message = error_class, message
    if connector is not None:
        record_api_calls(db.session, connector, conn.id, run.id)
    if error_class == "transient" and run.attempts < current_app.config["SYNC_MAX_ATTEMPTS"]:
        return _retry(run, exc)
    run.status, run.finished_at = "failed", utcnow()
    conn.last_sync_at = run.finished_at
    if error_class == "configuration":
        conn.status, conn.last_error = "error", message
    release(conn.id, run.id, commit=False)
    db.session.commit()
    return "failed"


def _retry(run: SyncRun, exc: Exception) -> str:
    delay = backoff(run.attempts, getattr(exc, "retry_after", None))
    run.status = "retrying"
    run.job_id = next_job_id(run)
    run.heartbeat_at = utcnow() + timedelta(seconds=delay)  # not stale while it waits
    db.session.commit()
    enqueue_run(run, delay=delay)
    log.info("sync run %s: transient error, retry %d in %.1fs", run.id, run.attempts, delay)
    return "retrying"


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """The platform's Retry-After when given, else exponential backoff with jitter."""
    if retry_after is not None:
        return float(retry_after)
    config = current_app.config
    base = float(config.get("SYNC_RETRY_BASE_SECONDS", 30))
    ceiling = min(float(config.get("SYNC_RETRY_MAX_SECONDS", 900)), base * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _message(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if classify(exc) != "system" else f"{type(exc).__name__}: {text}"
