"""RQ job functions. They take ids, never ORM objects, and run inside a Flask app context:
the current one when pushed (a worker started by ``run_worker``), else one app per process
built from the environment on first use (never at import)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, has_app_context
from rq import get_current_job

from hub.core.errors import HubError

_app: Flask | None = None
_pid: int | None = None


class SyncFailed(HubError):
    """The run ended failed; its row says why. Raised so RQ records the job as failed."""


@contextmanager
def app_context() -> Iterator[None]:
    """Enter an application context, creating the process's app if none is pushed."""
    global _app
    if has_app_context():
        _fresh_connections()
        yield
        return
    if _app is None:
        from hub import create_app

        _app = create_app()
    with _app.app_context():
        _fresh_connections()
        yield


def _fresh_connections() -> None:
    """After a fork (RQ runs each job in a work horse), never reuse the parent's sockets."""
    global _pid
    if _pid != os.getpid():
        from hub.extensions import db

        db.engine.dispose(close=False)
        _pid = os.getpid()


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
