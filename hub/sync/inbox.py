"""Webhook inbox processing: the job behind the "webhooks" queue, and replay.

A delivery is turned into records by its connector and applied through the one ingest entry
in the same transaction that marks it processed, so a crash leaves it either fully applied
or still ``received``; processing it again changes nothing (X1).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from datetime import timedelta
from queue import Empty, SimpleQueue

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from sqlalchemy import select
from werkzeug.datastructures import Headers

from hub.core import ingest
from hub.core.errors import NotFound, QueueUnavailable
from hub.extensions import db, redis_connection
from hub.models import Connection, WebhookDelivery, utcnow
from hub.sync import runtime
from hub.sync.jobs import app_context
from hub.sync.queues import REDIS_DOWN, WEBHOOKS, queue

log = logging.getLogger(__name__)

RETRY_INTERVALS = [10, 60, 300]
DONE = ("processed", "ignored")
PENDING_KEY = "hub:webhooks:announced"  # ids stored by the intake, not yet queued one by one
PENDING_FLAG = "hub:webhooks:drain-queued"  # set while a drain job waits to start
FLAG_TTL = 60  # seconds: a lost drain job (Redis died mid-enqueue) delays, never strands
REQUEUE_BATCH = 500  # jobs per pipelined round trip when the inbox is swept


def enqueue(delivery_id: int) -> None:
    """Queue processing of one stored delivery. With Redis down the row stays ``received``
    (the workers' maintenance queues it when Redis is back) and QueueUnavailable says so."""
    try:
        queue(WEBHOOKS).enqueue(
            process_delivery,
            delivery_id,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            description=f"webhook delivery {delivery_id}",
        )
    except REDIS_DOWN as exc:
        raise QueueUnavailable(
            f"the queue is unavailable; webhook delivery {delivery_id} stays in the inbox and "
            "will be processed when the queue is back"
        ) from exc


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
                    drain_announced, description="webhook deliveries: fan out"
                )
            except Exception:
                redis.delete(PENDING_FLAG)  # let the next push try again
                raise


_CREATE = threading.Lock()


@atexit.register
def _flush_at_exit() -> None:
    for announcer in list(Announcer._live):
        if announcer.pid == os.getpid():
            announcer.flush(2.0)


def drain_announced(batch: int = 500) -> int:
    """Turn every announced id into its own ``process_delivery`` job (with retries) on the
    "webhooks" queue, in pipelined batches; returns how many were queued."""
    with app_context():
        conn = redis_connection()
        conn.delete(PENDING_FLAG)
        total = 0
        while ids := conn.lpop(PENDING_KEY, batch):
            try:
                _enqueue_many([int(i) for i in ids])
            except Exception:
                conn.lpush(PENDING_KEY, *reversed(ids))  # back at the head, for the next drain
                raise
            total += len(ids)
        return total


def _enqueue_many(delivery_ids: list[int]) -> None:
    webhooks = queue(WEBHOOKS)
    jobs = [
        Queue.prepare_data(
            process_delivery,
            (delivery_id,),
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            description=f"webhook delivery {delivery_id}",
        )
        for delivery_id in delivery_ids
    ]
    with webhooks.connection.pipeline() as pipe:
        webhooks.enqueue_many(jobs, pipeline=pipe)
        pipe.execute()


def process_delivery(delivery_id: int) -> str:
    """Apply one delivery; returns its final status. Raises if processing failed."""
    with app_context():
        return _process(delivery_id)


def _process(delivery_id: int) -> str:
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None:
        log.warning("webhook delivery %s no longer exists", delivery_id)
        return "missing"
    if row.status in DONE:
        return row.status
    conn = db.session.get(Connection, row.connection_id)
    if conn is None or not conn.is_bound:
        _finish(row, "ignored", "the store was unbound before this delivery was processed")
        return row.status
    try:
        _apply(row, conn)
    except Exception as exc:
        db.session.rollback()
        _record_failure(delivery_id, exc)
        raise
    return row.status


def _apply(row: WebhookDelivery, conn: Connection) -> None:
    connector = runtime.connector_for(conn)
    try:
        records = connector.handle_webhook(Headers(row.headers or {}), row.body)
        result = ingest.apply(
            db.session, row.workspace_id, records, connection_id=conn.id, commit=False
        )
    finally:
        runtime.record_api_calls(db.session, connector, conn.id)
    reasons = [f"record {f.key}: {f.reason}" for f in result.failures]
    _finish(row, "failed" if reasons else "processed", "; ".join(reasons)[:2000] or None)


def _finish(row: WebhookDelivery, status: str, error: str | None) -> None:
    row.status = status
    row.error = error
    row.attempts = (row.attempts or 0) + 1
    row.processed_at = utcnow()
    db.session.commit()


def _record_failure(delivery_id: int, exc: BaseException) -> None:
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None:
        return
    row.status = "failed"
    row.error = f"{type(exc).__name__}: {exc}"[:2000]
    row.attempts = (row.attempts or 0) + 1
    db.session.commit()
    log.warning("webhook delivery %s failed: %s", delivery_id, row.error)


def replay(workspace_id: int, delivery_id: int) -> WebhookDelivery:
    """Process a stored delivery again (after a fix, or to check idempotence)."""
    row = db.session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.workspace_id == workspace_id
        )
    )
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    row.status = "received"
    row.error = None
    db.session.commit()
    enqueue(row.id)
    return row


def requeue_received(workspace_id: int | None = None, older_than: float = 0) -> int:
    """Enqueue every delivery still ``received`` (e.g. after a Redis outage), or only those
    received more than ``older_than`` seconds ago; returns how many."""
    query = select(WebhookDelivery.id).where(WebhookDelivery.status == "received")
    if older_than:
        cutoff = utcnow() - timedelta(seconds=older_than)
        query = query.where(WebhookDelivery.received_at < cutoff)
    if workspace_id is not None:
        query = query.where(WebhookDelivery.workspace_id == workspace_id)
    ids = list(db.session.scalars(query.order_by(WebhookDelivery.id)))
    try:
        for start in range(0, len(ids), REQUEUE_BATCH):
            _enqueue_many(ids[start : start + REQUEUE_BATCH])
    except REDIS_DOWN as exc:
        raise QueueUnavailable(
            f"the queue is unavailable; {len(ids)} webhook deliveries stay in the inbox"
        ) from exc
    return len(ids)
