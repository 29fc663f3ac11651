"""The import job on the "imports" queue. It takes a run id, streams the files in batches
through the pre-checks and ``hub.core.ingest.apply``, writes every failed row to the failure
file, and keeps progress and counts on the run row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from hub.connectors import Batch, FailureSink, FileImport, Item, SourceRow
from hub.core.errors import HubError, QueueUnavailable, ValidationFailed
from hub.core.ingest import IngestOptions, IngestResult, apply
from hub.extensions import db
from hub.imports import lookups, precheck
from hub.models import ImportRun, utcnow

Fail = Callable[[list[SourceRow], str], None]  # write these rows to the failure file, with why


class ImportFailed(HubError):
    """The run ended failed; its row says why. Raised so RQ records the job as failed."""


def enqueue(run: ImportRun) -> None:
    """Hand the committed run to the imports queue. With Redis down the run stays ``queued``
    (the request is kept) and QueueUnavailable says so; a worker's maintenance hands it over
    when Redis is back (``requeue_waiting``)."""
    from hub.jobs.queues import IMPORTS, REDIS_DOWN, queue

    try:
        job = queue(IMPORTS).enqueue(run_import, run.id, job_timeout=3600, result_ttl=86400)
    except REDIS_DOWN as exc:
        raise QueueUnavailable(
            f"the queue is unavailable; import {run.id} is kept and will start when the queue "
            "is back",
            import_id=run.id,
        ) from exc
    run.job_id = job.id
    db.session.commit()


def requeue_waiting(grace_seconds: float = 10.0) -> list[int]:
    """Queue every import run still ``queued`` whose job Redis does not hold (never handed
    over while Redis was down, or lost with Redis's data), ``grace_seconds`` after it was
    recorded. The ids of the runs queued."""
    from rq.job import Job

    from hub.extensions import redis_connection

    redis = redis_connection()
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    waiting = db.session.scalars(
        select(ImportRun)
        .where(ImportRun.status == "queued", ImportRun.created_at <= cutoff)
        .order_by(ImportRun.id)
    ).all()
    queued = []
    for run in waiting:
        if run.job_id and Job.exists(run.job_id, connection=redis):
            continue
        enqueue(run)
        queued.append(run.id)
    return queued


def run_import(run_id: int) -> str:
    """RQ entry point."""
    from hub.jobs.context import app_context

    with app_context():
        try:
            status = execute(run_id)
            if status == "failed":
                run = db.session.get(ImportRun, run_id)
                raise ImportFailed(f"import {run_id} failed: {run.error}")
            return status
        finally:
            db.session.remove()


def open_run(run: ImportRun) -> FileImport:
    """Open the run's files with its connector (raises ValidationFailed)."""
    cls = lookups.connector_for(run.kind)
    context = cls.make_context(
        *lookups.custom_fields(run.workspace_id), lookups.time_zone(run.workspace_id)
    )
    files = [(Path(f["path"]), f["name"]) for f in run.files]
    return cls.open_import(files, dict(run.settings or {}), context)


def mark_failed(run: ImportRun, message: str) -> None:
    db.session.rollback()
    run = db.session.get(ImportRun, run.id)
    run.status, run.error, run.finished_at = "failed", message[:2000], utcnow()
    db.session.commit()


def execute(run_id: int, opened: FileImport | None = None, *, reraise: bool = False) -> str:
    """Run one import to the end; returns its final status. ``opened`` is the import as
    ``start`` opened it, when it runs in the same process. A refused file (ValidationFailed)
    ends the run failed, and is raised again with ``reraise``."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status in ImportRun.FINISHED:
        return run.status if run else "missing"
    run.status, run.started_at = "running", utcnow()
    db.session.commit()
    try:
        _Runner(run).run(opened)
    except ValidationFailed as exc:
        mark_failed(run, str(exc))
        if reraise:
            raise
        return "failed"
    except Exception as exc:
        mark_failed(run, f"{type(exc).__name__}: {exc}")
        raise
    return "succeeded"


class _Runner:
    def __init__(self, run: ImportRun) -> None:
        self.run_id = run.id
        self.ws = run.workspace_id
        self.connector = lookups.connector_for(run.kind)
        self.dry_run = run.dry_run
        self.settings = dict(run.settings or {})
        self.folder = Path(run.files[0]["path"]).parent
        self.totals = IngestResult()
        self.rows_skipped = 0
        self.failed_rows = 0
        self.done = 0

    def run(self, opened: FileImport | None = None) -> None:
        run = db.session.get(ImportRun, self.run_id)
        opened = opened or open_run(run)
        opened.prepare()  # the whole file against its limits: nothing is written before
        options = self._options()
        table = opened.table
        stem = Path(lookups.clean_filename(run.files[0]["name"])).stem[:60]
        name = f"failures-{stem}.{table.format}"
        writer = self.connector.failure_writer(self.folder / name, table)
        size = int(current_app.config.get("INGEST_BATCH_SIZE", 1000))
        for batch in opened.batches(size):
            self._batch(batch, options, writer)
            self._progress(opened)
        path = writer.close()
        self._finish(path)

    def _options(self) -> IngestOptions:
        group_id = lookups.resolve_group(self.ws, self.settings.get("group"),
                                         create=not self.dry_run)  # fmt: skip
        return IngestOptions(
            identity_conflict="drop",
            original_source_policy=self.settings.get("original_source_policy", "new_only"),
            group_id=group_id,
            tags=list(self.settings.get("tags") or []),
            dry_run=self.dry_run,
        )

    def _batch(self, batch: Batch, options: IngestOptions, writer: FailureSink) -> None:
        failed_lines: set[int] = set()

        def fail(rows: list[SourceRow], reason: str) -> None:
            for row in rows:
                if row.line not in failed_lines:
                    failed_lines.add(row.line)
                    writer.add(row.cells, reason)

        for failure in batch.failures:
            fail([failure.row], failure.reason)
        items = self._prechecked(batch.items, fail)
        self._apply(items, options, fail)
        if batch.late is not None:
            self._apply(batch.late(failed_lines), options, fail)
        self.rows_skipped += batch.skipped
        self.failed_rows += len(failed_lines)
        self.done += batch.rows

    def _prechecked(self, items: list[Item], fail: Fail) -> list[Item]:
        """The connector's checks against the database (``FileConnector.precheck``)."""
        checks = precheck.DatabaseChecks(db.session, self.ws)
        bad = self.connector.precheck([i.record for i in items], checks)
        for index, reason in bad.items():
            fail(items[index].rows, reason)
        return [item for i, item in enumerate(items) if i not in bad]

    def _apply(self, items: list[Item], options: IngestOptions, fail: Fail) -> None:
        if not items:
            return
        result = apply(db.session, self.ws, [i.record for i in items], options=options)
        for failure in result.failures:
            fail(items[failure.index].rows, failure.reason)
        self.totals.merge(result)

    def _progress(self, opened: FileImport) -> None:
        run = db.session.get(ImportRun, self.run_id)
        run.progress_done = self.done
        if run.progress_total is None:
            run.progress_total = opened.total_rows()
        self._counts(run)
        db.session.commit()

    def _counts(self, run: ImportRun) -> None:
        entity = self.totals.counts.get(self.connector.entity, {})
        run.created = entity.get("created", 0)
        run.updated = entity.get("updated", 0)
        run.skipped = self.rows_skipped + entity.get("unchanged", 0) + entity.get("skipped", 0)
        run.failed = self.failed_rows
        run.counts = {**self.totals.counts, "conflicts": len(self.totals.conflicts)}

    def _finish(self, failure_path: Path | None) -> None:
        run = db.session.get(ImportRun, self.run_id)
        self._counts(run)
        run.failure_path = str(failure_path) if failure_path else None
        run.status, run.finished_at = "succeeded", utcnow()
        db.session.commit()
