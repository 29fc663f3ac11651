"""The fast webhook intake (issue 3 benchmark): one Redis list push per delivery, a drain job
queued once per burst that fans out one retried ``process_delivery`` job per delivery on the
"webhooks" queue; per-process connectors rebuilt when credentials change; Redis outages."""

from __future__ import annotations

import json

import pytest
from redis import Redis
from rq import SimpleWorker

from hub.extensions import db, redis_connection
from hub.models import WebhookDelivery
from hub.services import connections
from hub.sync import inbox
from hub.sync.queues import WEBHOOKS, queue
from tests.integration.test_webhooks import order_payload
from tests.support.fake_push import ACK, sign
from tests.support.ui import login, make_user

SECRET = "push-secret-123"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": ["tests.support.fake_push:FakePushConnector"]}


@pytest.fixture
def store(workspace):
    return connections.bind(
        workspace.id, "fakepush", {"store_id": "8001", "webhook_secret": SECRET}
    )


def push(client, conn, delivery: str, *, secret: str = SECRET):
    body = json.dumps(order_payload(f"T-{delivery}")).encode()
    headers = {"X-Fake-Signature": sign(secret, body), "X-Fake-Delivery": delivery}
    return client.post(f"/webhooks/{conn.platform}/{conn.id}", data=body, headers=headers)


def queued_functions() -> list[str]:
    return [job.func_name.rsplit(".", 1)[-1] for job in queue(WEBHOOKS).jobs]


def statuses() -> dict[str, str]:
    db.session.expire_all()
    return {r.delivery_id: r.status for r in db.session.query(WebhookDelivery)}


def test_a_burst_of_pushes_queues_one_drain_job(client, store):
    for n in range(5):
        assert push(client, store, f"d-{n}").get_data(as_text=True) == ACK
    assert queued_functions() == ["drain_announced"]
    assert redis_connection().llen(inbox.PENDING_KEY) == 5


def test_the_drain_queues_one_retried_job_per_delivery_on_the_webhooks_queue(client, store):
    for n in range(3):
        push(client, store, f"d-{n}")
    ids = sorted(r.id for r in db.session.query(WebhookDelivery))
    assert inbox.drain_announced() == 3
    jobs = [j for j in queue(WEBHOOKS).jobs if j.func_name.endswith("process_delivery")]
    assert sorted(j.args[0] for j in jobs) == ids
    assert all(j.retries_left == len(inbox.RETRY_INTERVALS) for j in jobs)
    assert redis_connection().llen(inbox.PENDING_KEY) == 0


def test_a_push_after_the_drain_started_queues_the_next_drain(client, store):
    push(client, store, "d-1")
    assert inbox.drain_announced() == 1  # clears the flag, pops d-1
    push(client, store, "d-2")
    assert queued_functions().count("drain_announced") == 2
    assert inbox.drain_announced() == 1


def test_every_stored_push_is_processed_by_a_webhooks_worker(app, client, store):
    for n in range(4):
        push(client, store, f"d-{n}")
    push(client, store, "d-1")  # a retried delivery: stored and queued once
    SimpleWorker([queue(WEBHOOKS)], connection=redis_connection(app)).work(burst=True)
    assert set(statuses()) == {"d-0", "d-1", "d-2", "d-3"}
    assert set(statuses().values()) == {"processed"}
    assert queue(WEBHOOKS).count == 0


def test_redis_outage_acks_keeps_the_row_received_for_requeue(app, client, store):
    live = redis_connection(app)
    app.extensions["hub.redis"] = Redis(unix_socket_path="/nonexistent/redis.sock")
    try:
        assert push(client, store, "d-1").get_data(as_text=True) == ACK
    finally:
        app.extensions["hub.redis"] = live
    assert statuses() == {"d-1": "received"}
    assert queue(WEBHOOKS).count == 0
    assert inbox.requeue_received() == 1
    assert queued_functions() == ["process_delivery"]


def test_changed_credentials_are_used_at_once_by_the_intake(client, store, workspace):
    assert push(client, store, "d-1").status_code == 200  # the connector is now cached
    connections.update_credentials(workspace.id, store.id, {"webhook_secret": "rotated-456"})
    assert push(client, store, "d-2").status_code == 401
    assert push(client, store, "d-3", secret="rotated-456").status_code == 200
    assert set(statuses()) == {"d-1", "d-3"}


def test_unbind_after_a_cached_push_is_404(client, store, workspace):
    assert push(client, store, "d-1").status_code == 200
    connections.unbind(workspace.id, store.id)
    assert push(client, store, "d-2").status_code == 404
    assert set(statuses()) == {"d-1"}


def test_the_autosync_tick_requeues_only_stranded_deliveries(app, client, store):
    from datetime import timedelta

    from sqlalchemy import select

    from hub.models import utcnow
    from hub.sync import schedule

    live = app.extensions["hub.redis"]
    app.extensions["hub.redis"] = Redis(unix_socket_path="/nonexistent/redis.sock")
    try:
        push(client, store, "old")
        push(client, store, "new")
    finally:
        app.extensions["hub.redis"] = live
    old = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.delivery_id == "old"))
    old.received_at = utcnow() - timedelta(seconds=schedule.STRANDED_SECONDS + 1)
    db.session.commit()
    schedule.tick()
    assert queued_functions() == ["process_delivery"]
    assert queue(WEBHOOKS).jobs[0].args == (old.id,)


def test_the_intake_neither_reads_nor_sets_a_session_cookie(client, store, workspace):
    """A browser session cookie riding along on a push is ignored, and the answer carries no
    cookie and no ``Vary: Cookie``: the intake opens no session at all."""
    make_user(workspace, "admin@acme.test")
    assert login(client, "admin@acme.test").status_code == 302
    assert client.get_cookie("session") is not None
    resp = push(client, store, "with-cookie")
    assert resp.get_data(as_text=True) == ACK
    assert "Set-Cookie" not in resp.headers
    assert "Cookie" not in resp.headers.get("Vary", "")
    assert statuses() == {"with-cookie": "received"}
