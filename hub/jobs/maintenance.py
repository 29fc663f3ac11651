"""The hub's periodic duties, run by every worker in a thread of its own: not an RQ job that
Redis can lose, and not RQ's scheduler process, which only the holder of RQ's scheduler lock
runs and which dies with a Redis outage.

A pass runs when the worker starts and every ``HUB_MAINTENANCE_SECONDS`` after. It
- moves RQ's scheduled jobs (retries waiting for their time) onto their queues, under RQ's
  per-queue scheduler locks (one worker at a time; a dead holder's lock expires in a minute);
- under a lease in Redis that lives one pass (one worker per pass): fails the sync runs whose
  job raised before the run ended (``service.fail_orphaned_runs``), resumes stale sync runs
  and hands queued runs whose job Redis lacks to the queue (``service.resume_stale_runs``),
  import runs too (``hub.imports.jobs.requeue_waiting``); moves checkouts left pending an
  hour to abandoned (``hub.core.store.deals.age_all_pending``, H6);
  after Redis came back from an outage, or back without its data, queues every webhook
  delivery left ``received``; and once per ``HUB_AUTOSYNC_TICK_SECONDS`` runs the auto-sync
  fan-out (``schedule.tick``); once a day reconciles the third-party sales of migrated
  products (``schedule.reconcile_sales``, W5).

Its keys are set with NX and expiry, so an empty Redis only means the next pass does it all.
A pass never raises: Redis down is one log line when its state changes (``RedisWatch``), any
other error is logged once until it changes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from uuid import uuid4

from flask import Flask
from redis import Redis
from rq.job import Job
from rq.scheduler import RQScheduler

from hub.automation import delivery as outbound
from hub.core.errors import QueueUnavailable
from hub.core.store import deals
from hub.extensions import db, redis_connection
from hub.imports import jobs as import_jobs
from hub.inbox import processing as inbox
from hub.jobs import schedule
from hub.jobs.queues import REDIS_DOWN
from hub.models import utcnow
from hub.sync import service

log = logging.getLogger(__name__)

EPOCH_KEY = "hub:maintenance:epoch"  # present while Redis keeps the hub's data
SWEEP_KEY = "hub:maintenance:sweep"  # set after an outage: queue every delivery left received
LEASE_KEY = "hub:maintenance:lease"  # one worker's pass
TICK_KEY = "hub:maintenance:autosync"  # lives one auto-sync period
SALES_KEY = "hub:maintenance:sales"  # lives a day: third-party sales reconciled (W5)
DAY_SECONDS = 24 * 3600
LEGACY_TICK_JOB = "hub-autosync-tick"  # the RQ repeat job that held the schedule before

# Held by a maintenance pass, and by the worker while it forks a work horse: a fork copies
# the locks other threads hold (SQLite's, a connection pool's) and nobody in the child would
# ever release them, so a horse forked in the middle of a pass could hang for good.
FORK_GUARD = threading.Lock()


def where(redis: Redis) -> str:
    """Redis's address for log lines (never its password)."""
    kwargs = redis.connection_pool.connection_kwargs
    return kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"


class RedisWatch:
    """Whether Redis answered when this process last asked; one log line when that changes."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.up = True
        self._came_back = False
        self._lock = threading.Lock()

    def down(self, exc: BaseException) -> None:
        with self._lock:
            changed, self.up = self.up, False
        if changed:
            log.warning("Redis at %s is unavailable (%s); waiting for it", where(self.redis), exc)

    def lost(self, exc: BaseException) -> None:
        """A command failed as if Redis were down: an outage if a ping fails too (a connection
        broken by an outage that has ended fails once, after Redis is back)."""
        try:
            self.redis.ping()
        except REDIS_DOWN as again:
            self.down(again)
        else:
            log.info("a Redis command failed (%s); Redis answers", exc)

    def back(self) -> None:
        with self._lock:
            changed, self.up = not self.up, True
            self._came_back |= changed
        if changed:
            log.warning("Redis at %s is back", where(self.redis))

    def take_comeback(self) -> bool:
        """True once after each outage seen: the caller recovers what it stranded."""
        with self._lock:
            came_back, self._came_back = self._came_back, False
        return came_back

    def wait(self, stop: threading.Event, ceiling: float = 5.0) -> bool:
        """Ping with backoff (up to ``ceiling`` seconds apart) until Redis answers (True) or
        ``stop`` is set (False)."""
        delay = 0.25
        while not stop.is_set():
            try:
                self.redis.ping()
            except REDIS_DOWN as exc:
                self.down(exc)
                stop.wait(delay)
                delay = min(delay * 2, ceiling)
            else:
                self.back()
                return True
        return False


class Maintenance:
    """One worker's maintenance thread; a context manager that starts it, and on exit stops it
    and releases the RQ scheduler locks it holds."""

    def __init__(self, app: Flask, queues: Sequence[str], watch: RedisWatch) -> None:
        self.app = app
        self.watch = watch
        self.interval = float(app.config["MAINTENANCE_SECONDS"])
        self.token = uuid4().hex
        self.scheduler = RQScheduler(
            list(queues), connection=watch.redis, interval=max(1, round(self.interval))
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hub-maintenance", daemon=True)
        self._last_error: str | None = None

    def __enter__(self) -> Maintenance:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        with contextlib.suppress(*REDIS_DOWN):  # else they expire by themselves
            self.scheduler.release_locks()

    def _loop(self) -> None:
        while True:
            self.run_pass()
            if self._stop.wait(self.interval):
                return

    def run_pass(self) -> None:
        """One pass; errors are logged, never raised. Under FORK_GUARD: no work horse is
        forked meanwhile."""
        with FORK_GUARD, self.app.app_context():
            try:
                self._duties(redis_connection())
            except (QueueUnavailable, *REDIS_DOWN) as exc:
                self.watch.lost(exc.__cause__ or exc)
            except Exception as exc:
                self._log_error(exc)
            else:
                self._last_error = None
            finally:
                db.session.remove()

    def _duties(self, redis: Redis) -> None:
        redis.ping()
        self.watch.back()
        emptied = bool(redis.set(EPOCH_KEY, utcnow().isoformat(), nx=True))
        if self.watch.take_comeback() or emptied:  # both read: one comeback, one sweep
            redis.set(SWEEP_KEY, 1)
        if self.scheduler.acquire_locks():
            self.scheduler.enqueue_scheduled_jobs()
        if not redis.set(LEASE_KEY, self.token, nx=True, px=int(self.interval * 1000)):
            return
        if redis.exists(SWEEP_KEY):
            self._sweep(redis)
        service.fail_orphaned_runs()  # first: a job that raised would raise again if resumed
        service.resume_stale_runs()
        import_jobs.requeue_waiting()
        outbound.dispatch_due()  # outbound webhooks due, or claimed by a worker that died
        deals.age_all_pending(db.session)  # checkouts left pending an hour are abandoned (H6)
        if redis.set(TICK_KEY, 1, nx=True, ex=int(self.app.config["AUTOSYNC_TICK_SECONDS"])):
            schedule.tick()
        if redis.set(SALES_KEY, 1, nx=True, ex=DAY_SECONDS):
            schedule.reconcile_sales()

    def _sweep(self, redis: Redis) -> None:
        """After an outage or a loss of Redis's data: queue every delivery left received."""
        count = inbox.requeue_received()
        if count:
            log.info("queued %d webhook deliveries left received", count)
        redis.delete(SWEEP_KEY, Job.key_for(LEGACY_TICK_JOB))

    def _log_error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        if text != self._last_error:
            log.error("maintenance pass failed: %s", text, exc_info=exc)
        self._last_error = text
