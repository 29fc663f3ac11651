"""Webhook intake's hand-off, in the web process: after a push is stored as an inbox row
(``hub.web.webhooks``), ``announce`` hands its id to the "webhooks" queue from a background
thread, so the push is answered without waiting for Redis. The worker side turns the announced
ids into jobs (``hub.inbox.processing.drain_announced``), named here, never imported: the
intake loads none of the processing code.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from queue import Empty, SimpleQueue

from flask import Flask, current_app
from redis import Redis
from rq import Queue

from hub.extensions import redis_connection
from hub.jobs.queues import REDIS_DOWN, WEBHOOKS

log = logging.getLogger(__name__)

PENDING_KEY = "hub:webhooks:announced"  # ids stored by the intake, not yet queued one by one
PENDING_FLAG = "hub:webhooks:drain-queued"  # set while a drain job waits to start
FLAG_TTL = 60  # seconds: a lost drain job (Redis died mid-enqueue) delays, never strands
DRAIN_JOB = "hub.inbox.processing.drain_announced"


def announce(delivery_id: int) -> None:
    """The intake's hand-off of a stored delivery: the process's announcer appends the id to a
    Redis list from a background thread, so the push is answered without waiting for Redis.

    The inbox row is committed before this is called, so an id the announcer never hands over
    (the process died, Redis is down) stays ``received`` and the workers' maintenance queues
    it (``requeue_received``): a late delivery, never a lost one."""
    Announcer.of(current_app._get_current_object()).put(delivery_id)  # type: ignore[attr-defined]


def flush_announcements(app: Flask | None = None, timeout: float = 5.0) -> bool:
    """Wait until this process's announcer has handed every id over (True) or ``timeout``
    passed (False). For tests and shutdown; the intake never waits."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return Announcer.of(app).flush(timeout)


class Announcer:
    """A background thread per process and application that hands announced ids to Redis.

    Woken by an id, it waits ``LINGER_SECONDS`` for the rest of the burst (off the request's
    path: a sleeping thread holds no GIL), then sends every id waiting in one pipelined round
    trip. Per push this was a redis-py round trip and the GIL it held; now it is a share of one
    (0.46 -> 0.54 of the bare endpoint in bench/webhooks.py).

    The ids are appended to ``PENDING_KEY`` and, once per burst, ``drain_announced`` is queued
    on the "webhooks" queue. ``PENDING_FLAG`` set means a drain job is queued and has not
    started yet; the job clears it before popping, so an id appended after that either is
    popped by it or sets the flag again and queues the next drain.

    The thread starts on the first id and ends after ``IDLE_SECONDS`` without one; a forked
    process (a gunicorn worker) gets an announcer of its own, never its parent's dead thread."""

    IDLE_SECONDS = 30.0
    LINGER_SECONDS = 0.01
    _live: weakref.WeakSet[Announcer] = weakref.WeakSet()

    @classmethod
    def of(cls, app: Flask) -> Announcer:
        announcer = app.extensions.get("hub.announcer")
        if announcer is None or announcer.pid != os.getpid():
            with _CREATE:
                announcer = app.extensions.get("hub.announcer")
                if announcer is None or announcer.pid != os.getpid():
                    announcer = app.extensions["hub.announcer"] = cls(app)
        return announcer

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pid = os.getpid()
        self._ids: SimpleQueue[int] = SimpleQueue()
        self._pending = 0  # ids put and not yet handed over (or given up on)
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        Announcer._live.add(self)

    def put(self, delivery_id: int) -> None:
        with self._lock:
            self._pending += 1
            self._ids.put(delivery_id)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hub-webhook-announcer", daemon=True
                )
                self._thread.start()

    def flush(self, timeout: float = 5.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            try:
                ids = [self._ids.get(timeout=self.IDLE_SECONDS)]
            except Empty:
                with self._lock:  # put() starts a new thread only after this one is gone
                    if self._ids.empty():
                        self._thread = None
                        return
                continue
            time.sleep(self.LINGER_SECONDS)  # let the ids of a burst gather: one round trip
            while not self._ids.empty():
                ids.append(self._ids.get_nowait())
            try:
                self._hand_over(redis_connection(self.app), ids)
            except Exception as exc:  # the rows are safe in the inbox
                log.warning(
                    "could not announce %d webhook deliveries (ids %s to %s): %s; they stay in "
                    "the inbox until the queue takes them",
                    len(ids),
                    min(ids),
                    max(ids),
                    exc,
                    exc_info=not isinstance(exc, REDIS_DOWN),  # Redis down: one plain line
                )
            finally:
                with self._lock:
                    self._pending -= len(ids)
                    self._lock.notify_all()

    @staticmethod
    def _hand_over(redis: Redis, ids: list[int]) -> None:
        with redis.pipeline(transaction=False) as pipe:
            pipe.rpush(PENDING_KEY, *ids)
            pipe.set(PENDING_FLAG, 1, nx=True, ex=FLAG_TTL)
            _, first = pipe.execute()
        if first:
            try:
                Queue(WEBHOOKS, connection=redis).enqueue(
                    DRAIN_JOB, description="webhook deliveries: fan out"
                )
            except Exception:
                redis.delete(PENDING_FLAG)  # let the next push try again
                raise


_CREATE = threading.Lock()


@atexit.register
def flush_every_announcer() -> None:
    """Wait (up to 2 s each) until every announcer of this process has handed its ids over:
    at exit, and before a test starts afresh (one still lingering on an earlier application's
    ids would queue a drain job into the next test's Redis)."""
    for announcer in list(Announcer._live):
        if announcer.pid == os.getpid():
            announcer.flush(2.0)
