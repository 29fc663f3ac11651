"""The worker: RQ 3 with its built-in scheduler, on the application's Redis.

``python -m hub.sync.worker`` runs one from the environment (HUB_* variables)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from flask import Flask
from rq import Worker

from hub.extensions import redis_connection
from hub.sync.queues import QUEUES, queue

log = logging.getLogger(__name__)


class HubWorker(Worker):
    """Each work horse (a fork) drops the parent's database connections before the job."""

    def main_work_horse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from hub.extensions import db

        db.engine.dispose(close=False)
        return super().main_work_horse(*args, **kwargs)


def run_worker(app: Flask, queues: Sequence[str] = QUEUES, *, burst: bool = False) -> bool:
    """Work the queues (in order of priority) until stopped, or until empty with ``burst``."""
    with app.app_context():
        from hub.sync import schedule

        connection = redis_connection(app)
        worker = HubWorker([queue(name, app) for name in queues], connection=connection)
        schedule.ensure_scheduled()
        schedule.service.resume_stale_runs()
        # End the start-up's transaction: a connection the session still holds would be shared
        # by every forked work horse (PostgreSQL: "prepared statement _pg3_0 already exists").
        from hub.extensions import db

        db.session.remove()
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m hub.sync.worker [QUEUE...] [--burst]``."""
    from hub import create_app

    args = list(sys.argv[1:] if argv is None else argv)
    burst = "--burst" in args
    names = [a for a in args if not a.startswith("--")] or list(QUEUES)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_worker(create_app(), names, burst=burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
