"""Webhook inbox processing, on the worker side: the jobs behind the "webhooks" queue
(fan-out of the announced ids, one delivery each), replay, and the sweep of deliveries left
``received``.

A delivery is turned into records by its connector and applied through the one ingest entry
in the same transaction that marks it processed, so a crash leaves it either fully applied
or still ``received``; processing it again changes nothing (X1).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from rq import Queue, Retry
from sqlalchemy import select
from werkzeug.datastructures import Headers

from hub.core import ingest
from hub.core.errors import CredentialsRevoked, NotFound, QueueUnavailable
from hub.extensions import db, redis_connection
from hub.inbox.intake import PENDING_FLAG, PENDING_KEY
from hub.jobs.context import app_context
from hub.jobs.queues import REDIS_DOWN, WEBHOOKS, queue
from hub.models import Connection, WebhookDelivery, utcnow
from hub.sync import runtime

log = logging.getLogger(__name__)

RETRY_INTERVALS = [10, 60, 300]
DONE = ("processed", "ignored")
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
        try:
            records = connector.handle_webhook(Headers(row.headers or {}), row.body)
        except CredentialsRevoked as exc:  # e.g. Shopify's app/uninstalled: bind again
            conn.status, conn.last_error = "error", str(exc)
            _finish(row, "processed", None)
            return
        options = ingest.IngestOptions(sales_volume="migrate" in connector.capabilities)
        result = ingest.apply(db.session, row.workspace_id, records, connection_id=conn.id,
                              options=options, commit=False)  # fmt: skip
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
