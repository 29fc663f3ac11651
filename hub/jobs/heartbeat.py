"""A run's heartbeat: a thread with its own database connection that stamps
``sync_runs.heartbeat_at`` while the run is alive, and notices when the run was taken over."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.models import SyncRun, utcnow

log = logging.getLogger(__name__)


class Heartbeat:
    """Beats every ``interval`` seconds for run ``run_id`` held by ``job_id``. ``lost`` turns
    true when the row's job id changed: another worker resumed the run, this one must stop."""

    def __init__(self, engine: Engine, run_id: int, job_id: str | None, interval: float) -> None:
        self.engine = engine
        self.run_id = run_id
        self.job_id = job_id
        self.interval = interval
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def beat(self) -> None:
        """One stamp, in its own short transaction."""
        stmt = update(SyncRun).where(SyncRun.id == self.run_id)
        if self.job_id is not None:
            stmt = stmt.where(SyncRun.job_id == self.job_id)
        with self.engine.begin() as conn:
            if conn.execute(stmt.values(heartbeat_at=utcnow())).rowcount == 0:
                self.lost = True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except SQLAlchemyError as exc:  # a busy database must not kill the run
                log.warning("heartbeat of sync run %s failed: %s", self.run_id, exc)
