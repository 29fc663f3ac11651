"""The sync's RQ job: ``run_sync`` takes a run id and runs it in the job app context
(``hub.jobs.context``). Its dotted path is ``hub.sync.service.JOB_FUNC``."""

from __future__ import annotations

from rq import get_current_job

from hub.core.errors import HubError
from hub.jobs.context import app_context


class SyncFailed(HubError):
    """The run ended failed; its row says why. Raised so RQ records the job as failed."""


def run_sync(run_id: int) -> str:
    """Run one sync run; raises SyncFailed when it ends failed."""
    from hub.extensions import db
    from hub.models import SyncRun
    from hub.sync import engine

    job = get_current_job()
    with app_context():
        try:
            status = engine.execute(run_id, job_id=job.id if job else None)
            if status == "failed":
                run = db.session.get(SyncRun, run_id)
                raise SyncFailed(f"sync run {run_id} failed: {run.error_message}")
            return status
        finally:
            db.session.remove()
