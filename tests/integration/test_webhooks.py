"""Webhook intake (issue 2 point 7): verify on the raw body, one inbox row per delivery id,
processing on the "webhooks" queue by a real RQ worker, idempotent processing and replay."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text

from hub.extensions import db, redis_connection
from hub.inbox import intake, processing
from hub.jobs.queues import WEBHOOKS, queue
from hub.models import Customer, Event, Order, OrderLine, WebhookDelivery
from hub.services import connections
from tests.support.burst import BurstWorker
from tests.support.fake_push import ACK, sign

SECRET = "push-secret-123"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": ["tests.support.fake_push:FakePushConnector"]}


@pytest.fixture
def store(workspace):
    return connections.bind(
        workspace.id, "fakepush", {"store_id": "8001", "webhook_secret": SECRET}
    )


def order_payload(ext: str = "T100", status: str = "paid", version: int = 1) -> dict[str, Any]:
    return {
        "external_id": ext,
        "order_no": ext,
        "status": status,
        "version": version,
        "ordered_at": "2026-01-02T10:00:00+08:00",
        "amount_total": "99.00",
        "amount_paid": "99.00",
        "buyer": {"identities": [{"type": "yz_open_id", "value": "buyer-1"}], "name": "Han"},
        "lines": [{"external_id": "L1", "name": "Tea", "qty": 1, "total": "99.00"}],
    }


def post(client, conn, payload: Any, *, delivery: str = "d-1", secret: str = SECRET, sig=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "X-Fake-Signature": sig if sig is not None else sign(secret, body),
        "X-Fake-Delivery": delivery,
        "X-Fake-Topic": "order.updated",
    }
    return client.post(
        f"/webhooks/{conn.platform}/{conn.id}",
        data=body,
        headers=headers,
        content_type="application/json",
    )


def inbox_rows() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def queued() -> int:
    """Jobs on the "webhooks" queue once this process's announcer has handed over its ids."""
    assert intake.flush_announcements()
    return queue(WEBHOOKS).count


def run_worker(app) -> None:
    intake.flush_announcements(app)
    conn = redis_connection(app)
    BurstWorker([queue(WEBHOOKS)], connection=conn).work(burst=True)


def core_snapshot() -> dict[str, list]:
    """Every row of the core tables, to compare before and after a replay (X1)."""
    db.session.expire_all()
    out = {}
    for table in ("customers", "identities", "orders", "order_lines", "events"):
        rows = db.session.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()  # noqa: S608
        out[table] = [tuple(r) for r in rows]
    return out


def test_webhook_valid_delivery_is_stored_queued_and_acknowledged(client, store):
    resp = post(client, store, order_payload())
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == ACK
    [row] = inbox_rows()
    assert (row.delivery_id, row.topic, row.status) == ("d-1", "order.updated", "received")
    assert row.workspace_id == store.workspace_id
    assert json.loads(row.body)["external_id"] == "T100"
    assert queued() == 1


def test_webhook_bad_signature_is_401_and_nothing_stored(client, store):
    body = json.dumps(order_payload()).encode()
    resp = post(client, store, body, sig=sign("another-secret", body))
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "bad_signature"
    resp = post(client, store, body, sig="")
    assert resp.status_code == 401
    # Signed over a different body than the one sent: the raw body is what counts.
    resp = post(client, store, body + b" ", sig=sign(SECRET, body))
    assert resp.status_code == 401
    assert inbox_rows() == []
    assert queued() == 0


def test_webhook_body_over_1_mib_is_413(client, store):
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    resp = post(client, store, body)
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"] == "payload_too_large"
    assert inbox_rows() == []


def test_webhook_body_of_exactly_the_limit_is_taken(app, client, store):
    app.config["WEBHOOK_MAX_BYTES"] = 4096
    payload = order_payload()
    body = json.dumps(payload).encode()
    body = body[:-1] + b" " * (4096 - len(body)) + b"}"
    assert len(body) == 4096
    assert post(client, store, body).status_code == 200
    assert post(client, store, body + b" ", delivery="d-2").status_code == 413


def test_webhook_duplicate_delivery_id_is_stored_once(client, store):
    first = post(client, store, order_payload())
    again = post(client, store, order_payload())
    assert first.status_code == again.status_code == 200
    assert again.get_data(as_text=True) == ACK
    assert len(inbox_rows()) == 1
    assert queued() == 1


def test_webhook_unknown_unbound_or_wrong_platform_connection_is_404(client, store, workspace):
    body = order_payload()
    assert client.post("/webhooks/fakepush/9999", json=body).status_code == 404
    assert client.post(f"/webhooks/youzan/{store.id}", json=body).status_code == 404
    connections.unbind(workspace.id, store.id)
    assert post(client, store, body).status_code == 404
    assert inbox_rows() == []


def test_webhook_missing_delivery_id_is_400(client, store):
    body = json.dumps(order_payload()).encode()
    resp = client.post(
        f"/webhooks/fakepush/{store.id}",
        data=body,
        headers={"X-Fake-Signature": sign(SECRET, body)},
    )
    assert resp.status_code == 400
    assert inbox_rows() == []


def test_webhook_processed_by_rq_worker_produces_the_order(app, client, store):
    assert post(client, store, order_payload()).status_code == 200
    run_worker(app)
    [row] = inbox_rows()
    assert row.status == "processed", row.error
    assert row.processed_at is not None
    order = db.session.scalar(select(Order).where(Order.external_id == "T100"))
    assert order is not None
    assert order.workspace_id == store.workspace_id
    assert order.connection_id == store.id
    assert str(order.amount_paid) == "99.00"
    assert db.session.scalar(select(OrderLine.name).where(OrderLine.order_id == order.id)) == "Tea"
    buyer = db.session.get(Customer, order.customer_id)
    assert buyer is not None and buyer.workspace_id == store.workspace_id
    types = db.session.scalars(select(Event.type).where(Event.order_id == order.id)).all()
    assert sorted(types) == ["first_purchase", "purchase"]  # a new buyer's first order


def test_x1_webhook_processing_twice_changes_nothing(app, client, store):
    post(client, store, order_payload())
    run_worker(app)
    before = core_snapshot()
    [row] = inbox_rows()
    assert processing.process_delivery(row.id) == "processed"
    assert core_snapshot() == before
    # Forced: the same delivery applied again through ingest leaves the core identical.
    row.status = "received"
    db.session.commit()
    assert processing.process_delivery(row.id) == "processed"
    assert core_snapshot() == before


def test_x1_webhook_replay_reprocesses_without_changing_the_core(app, client, store, workspace):
    post(client, store, order_payload())
    run_worker(app)
    before = core_snapshot()
    [row] = inbox_rows()
    attempts = row.attempts
    processing.replay(workspace.id, row.id)
    assert inbox_rows()[0].status == "received"
    run_worker(app)
    [row] = inbox_rows()
    assert row.status == "processed"
    assert row.attempts == attempts + 1
    assert core_snapshot() == before


def test_webhook_replay_is_scoped_to_the_workspace(app, client, store, other_workspace):
    from hub.core.errors import NotFound

    post(client, store, order_payload())
    [row] = inbox_rows()
    with pytest.raises(NotFound):
        processing.replay(other_workspace.id, row.id)


def test_x3_webhook_older_snapshot_after_newer_does_not_move_the_order_back(app, client, store):
    post(client, store, order_payload(status="completed", version=5), delivery="new")
    post(client, store, order_payload(status="paid", version=2), delivery="old")
    run_worker(app)
    assert [r.status for r in inbox_rows()] == ["processed", "processed"]
    order = db.session.scalar(select(Order).where(Order.external_id == "T100"))
    assert order.status == "completed"


def test_webhook_bad_payload_marks_the_delivery_failed_with_the_reason(app, client, store):
    payload = order_payload()
    del payload["ordered_at"]
    assert post(client, store, payload).status_code == 200
    run_worker(app)
    [row] = inbox_rows()
    assert row.status == "failed"
    assert "ordered_at" in row.error
    assert row.attempts == 1
    assert db.session.scalar(select(Order)) is None


def test_jobs_queued_by_the_previous_release_still_run(app, client, store):
    """Issue 21.5 moved the inbox jobs from hub.sync.inbox to hub.inbox.processing: a job the
    previous release queued under the old dotted path (a delivery, a drain) still runs."""
    post(client, store, order_payload())
    assert intake.flush_announcements(app)
    webhooks = queue(WEBHOOKS)
    webhooks.empty()  # today's drain job; its id stays announced in Redis
    [row] = inbox_rows()
    redis = redis_connection(app)
    assert redis.lrange(intake.PENDING_KEY, 0, -1) == [str(row.id).encode()]
    drain = webhooks.enqueue("hub.sync.inbox.drain_announced")
    old = webhooks.enqueue("hub.sync.inbox.process_delivery", row.id)
    BurstWorker([webhooks], connection=redis).work(burst=True)
    assert drain.get_status(refresh=True) == "finished" and drain.return_value() == 1
    assert old.get_status(refresh=True) == "finished" and old.return_value() == "processed"
    assert inbox_rows()[0].status == "processed"
