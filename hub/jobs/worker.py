"""The worker: RQ 3 on the application's Redis, with the hub's maintenance thread beside it
(hub.jobs.maintenance: scheduled jobs, stale runs, stranded deliveries, auto-sync).

Redis going away never ends the process: the RQ loop is left quietly, the worker waits for
Redis with backoff (one log line when it goes, one when it is back) and starts a fresh RQ
loop; a job running meanwhile goes on in its work horse. SIGTERM / SIGINT stop it as usual.
``python -m hub.jobs.worker`` runs one from the environment (HUB_* variables)."""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import io
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask
from rq import Queue, Worker, worker_registration
from rq.exceptions import StopRequested

from hub.app_factory import build_app
from hub.extensions import db, redis_connection
from hub.jobs.maintenance import FORK_GUARD, Maintenance, RedisWatch
from hub.jobs.queues import QUEUES, REDIS_DOWN

log = logging.getLogger(__name__)

PUBSUB_WAIT = 1.0  # seconds: the longest read of the worker-command listener
RESTART_PAUSE = 5.0  # seconds before an RQ loop that quit on an unexpected error starts again
# Seconds between the beats of a worker whose horse runs a job (RQ: 30). Each beat lists the
# worker again in RQ's registry, which a Redis restarted empty forgot: `hub sync --wait` looks
# there for a worker and gives up after NO_WORKER_GRACE (8 s) without one.
JOB_MONITORING_INTERVAL = 5


class RedisLost(StopRequested):
    """Redis went away under the RQ loop: leave it, without RQ's traceback."""


def _leaves_on_redis_loss(step: Callable[..., Any]) -> Callable[..., Any]:
    """A step of RQ's loop after which Redis being unreachable ends the loop quietly."""

    @functools.wraps(step)
    def guarded(self: HubWorker, *args: Any, **kwargs: Any) -> Any:
        try:
            return step(self, *args, **kwargs)
        except (RedisLost, *REDIS_DOWN) as exc:
            self.redis_lost = exc.__cause__ or exc
            raise RedisLost(str(self.redis_lost)) from exc

    return guarded


class HubQueue(Queue):
    @classmethod
    def dequeue_any(cls, *args: Any, **kwargs: Any) -> Any:  # RQ would log and retry
        try:
            return super().dequeue_any(*args, **kwargs)
        except REDIS_DOWN as exc:
            raise RedisLost(str(exc)) from exc


class HubWorker(Worker):
    """RQ's worker: each work horse (a fork) drops the parent's database connections; Redis
    lost between jobs ends the loop (``redis_lost``), during a job lets the horse finish."""

    queue_class = HubQueue
    redis_lost: BaseException | None = None
    stopping = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("job_monitoring_interval", JOB_MONITORING_INTERVAL)
        super().__init__(*args, **kwargs)

    check_for_suspension = _leaves_on_redis_loss(Worker.check_for_suspension)
    run_maintenance_tasks = _leaves_on_redis_loss(Worker.run_maintenance_tasks)
    dequeue_job_and_maintain_ttl = _leaves_on_redis_loss(Worker.dequeue_job_and_maintain_ttl)
    execute_job = _leaves_on_redis_loss(Worker.execute_job)

    def main_work_horse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        db.engine.dispose(close=False)
        return super().main_work_horse(*args, **kwargs)

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        with FORK_GUARD:  # never while the maintenance thread is inside a pass
            super().fork_work_horse(job, queue)

    def request_stop(self, signum, frame):  # type: ignore[no-untyped-def]
        self.stopping = True
        return super().request_stop(signum, frame)

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().heartbeat(*args, **kwargs)
            # listed again in RQ's worker registry, which a Redis restarted without its data
            # forgot: `hub sync --wait` asks it whether any worker listens (two SADDs a beat)
            worker_registration.register(self)
        except REDIS_DOWN as exc:
            if not self.horse_pid:  # during a job the horse goes on; RQ catches up later
                raise RedisLost(str(exc)) from exc

    def maintain_heartbeats(self, *args: Any, **kwargs: Any) -> None:
        with contextlib.suppress(*REDIS_DOWN):  # the horse goes on (a sync run beats in SQL)
            super().maintain_heartbeats(*args, **kwargs)

    def subscribe(self) -> None:
        """RQ's listener for worker commands, reading for at most PUBSUB_WAIT seconds at a
        time (RQ: 60), so that it ends soon after it is told to."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_WAIT, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def unsubscribe(self) -> None:
        """Stop the listener without a round trip to Redis and without waiting for it beyond a
        moment: it closes its connection (which ends the subscription) when its read returns.
        redis-py's stop() would wait for that read, and RQ's unsubscribe() for Redis, while
        the RQ loop cannot start again (a PostgreSQL run saw it wait for good)."""
        if self.pubsub_thread is not None:
            self.pubsub_thread.stop(timeout=PUBSUB_WAIT)

    def teardown(self) -> None:
        try:
            super().teardown()
        except REDIS_DOWN:
            self.unsubscribe()

    def _pubsub_exception_handler(self, exc, pubsub, pubsub_thread):  # type: ignore[no-untyped-def]
        if not isinstance(exc, REDIS_DOWN):
            return super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)
        time.sleep(2.0)  # quietly: the worker logs the outage once
        return None


class _StopSignal:
    """SIGTERM / SIGINT while no RQ loop runs (the worker waits for Redis): stop waiting."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> bool:
        """(Re)install the handlers, which RQ's loop replaces; False once a stop was asked."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.event.set())
        return not self.event.is_set()


def run_worker(app: Flask, queues: Sequence[str] = QUEUES, *, burst: bool = False) -> bool:
    """Work the queues (in order of priority) until stopped, or until empty with ``burst``."""
    # The hub's own lines (Redis gone and back, stale runs resumed) beside RQ's; a no-op when
    # the host process configured logging already.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # `kill -USR1 <pid>` writes every thread's stack to stderr: what a stuck worker waits for.
    with contextlib.suppress(io.UnsupportedOperation, ValueError):  # stderr with no file (tests)
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    with app.app_context():
        watch = RedisWatch(redis_connection(app))  # starts the embedded server if no URL
        maintenance = Maintenance(app, queues, watch)
        # Nothing of this context's session may be open when a work horse forks: it would share
        # the connection (PostgreSQL: "prepared statement _pg3_0 already exists").
        db.session.remove()
        if burst:
            maintenance.run_pass()
            return HubWorker(list(queues), connection=watch.redis).work(
                burst=True, logging_level="INFO"
            )
        with maintenance:
            return _serve(queues, watch, _StopSignal())


def _serve(queues: Sequence[str], watch: RedisWatch, stop: _StopSignal) -> bool:
    """RQ loops, one after the other, while Redis comes and goes, until a stop is asked."""
    worked = False
    while stop.install() and watch.wait(stop.event):
        worker = None
        try:
            worker = HubWorker(list(queues), connection=watch.redis)
            worked |= worker.work(logging_level="INFO")
        except REDIS_DOWN as exc:  # while the RQ loop registered itself
            log.info("the RQ loop lost Redis while starting (%s)", exc)
            continue  # watch.wait pings: the outage is logged once, if it is one
        if worker.stopping:
            return worked
        if worker.redis_lost is not None:
            # A connection the outage broke can fail after Redis is back: only a failed ping
            # (in watch.wait) counts as an outage, so each one is logged once.
            log.info("the RQ loop lost Redis (%s); it starts again", worker.redis_lost)
        else:
            log.error("the RQ loop quit; it starts again in %.0f s", RESTART_PAUSE)
            stop.event.wait(RESTART_PAUSE)
    return worked


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m hub.jobs.worker [QUEUE...] [--burst]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    burst = "--burst" in args
    names = [a for a in args if not a.startswith("--")] or list(QUEUES)
    run_worker(build_app(), names, burst=burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
