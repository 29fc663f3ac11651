"""The fast webhook intake (issue 3 benchmark): one Redis list push per delivery, a drain job
queued once per burst that fans out one retried ``process_delivery`` job per delivery on the
"webhooks" queue; per-process connectors rebuilt when credentials change; Redis outages."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from redis import Redis
from sqlalchemy import select

from hub.extensions import db, redis_connection
from hub.inbox import intake, processing
from hub.jobs.queues import WEBHOOKS, queue
from hub.models import WebhookDelivery
from hub.services import connections
from tests.integration.test_webhooks import order_payload
from tests.support.burst import BurstWorker
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
    assert intake.flush_announcements(timeout=5)
    return [job.func_name.rsplit(".", 1)[-1] for job in queue(WEBHOOKS).jobs]


def drained() -> int:
    """Run the drain job here, once this process's announcer has handed over its ids."""
    assert intake.flush_announcements(timeout=5)
    return processing.drain_announced()


def statuses() -> dict[str, str]:
    db.session.expire_all()
    return {r.delivery_id: r.status for r in db.session.query(WebhookDelivery)}


def test_a_burst_of_pushes_queues_one_drain_job(client, store):
    for n in range(5):
        assert push(client, store, f"d-{n}").get_data(as_text=True) == ACK
    assert queued_functions() == ["drain_announced"]
    assert redis_connection().llen(intake.PENDING_KEY) == 5


def test_the_drain_queues_one_retried_job_per_delivery_on_the_webhooks_queue(client, store):
    for n in range(3):
        push(client, store, f"d-{n}")
    ids = sorted(r.id for r in db.session.query(WebhookDelivery))
    assert drained() == 3
    jobs = [j for j in queue(WEBHOOKS).jobs if j.func_name.endswith("process_delivery")]
    assert sorted(j.args[0] for j in jobs) == ids
    assert all(j.retries_left == len(processing.RETRY_INTERVALS) for j in jobs)
    assert redis_connection().llen(intake.PENDING_KEY) == 0


def test_a_push_after_the_drain_started_queues_the_next_drain(client, store):
    push(client, store, "d-1")
    assert drained() == 1  # clears the flag, pops d-1
    push(client, store, "d-2")
    assert queued_functions().count("drain_announced") == 2
    assert drained() == 1


def test_every_stored_push_is_processed_by_a_webhooks_worker(app, client, store):
    for n in range(4):
        push(client, store, f"d-{n}")
    push(client, store, "d-1")  # a retried delivery: stored and queued once
    assert intake.flush_announcements(app)
    BurstWorker([queue(WEBHOOKS)], connection=redis_connection(app)).work(burst=True)
    assert set(statuses()) == {"d-0", "d-1", "d-2", "d-3"}
    assert set(statuses().values()) == {"processed"}
    assert queue(WEBHOOKS).count == 0


def test_redis_outage_acks_keeps_the_row_received_for_requeue(app, client, store):
    live = redis_connection(app)
    app.extensions["hub.redis"] = Redis(unix_socket_path="/nonexistent/redis.sock")
    try:
        assert push(client, store, "d-1").get_data(as_text=True) == ACK
        assert intake.flush_announcements(app, timeout=60)  # tried, logged, gave up
    finally:
        app.extensions["hub.redis"] = live
    assert statuses() == {"d-1": "received"}
    assert queue(WEBHOOKS).count == 0
    assert processing.requeue_received() == 1
    assert queued_functions() == ["process_delivery"]


def test_the_push_is_answered_without_waiting_for_redis(app, client, store):
    """Redis refuses writes for 1.5 s (CLIENT PAUSE WRITE): the push is still stored and
    answered at once, and its id reaches the list when Redis takes writes again."""
    redis = redis_connection(app)
    redis.execute_command("CLIENT", "PAUSE", 1500, "WRITE")
    started = time.monotonic()
    assert push(client, store, "d-1").get_data(as_text=True) == ACK
    answered = time.monotonic() - started
    assert statuses() == {"d-1": "received"}
    assert answered < 1.0
    assert intake.flush_announcements(app, timeout=10)
    assert time.monotonic() - started >= 1.4  # the hand-over did wait for the pause
    assert redis.lrange(intake.PENDING_KEY, 0, -1) == [str(_id("d-1")).encode()]


def test_ids_announced_from_many_threads_are_each_handed_over_once(app, store):
    """Concurrent requests of one worker share the announcer: it takes every id waiting on
    each wake-up, loses none, doubles none and queues one drain job for the burst."""
    announcer = intake.Announcer.of(app)
    ids = range(1, 801)
    redis_connection(app).config_resetstat()

    def put(chunk: range) -> None:
        for delivery_id in chunk:
            announcer.put(delivery_id)

    threads = [threading.Thread(target=put, args=(ids[n::8],)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert announcer.flush(10)
    handed = [int(i) for i in redis_connection(app).lrange(intake.PENDING_KEY, 0, -1)]
    assert sorted(handed) == list(ids)
    assert queued_functions() == ["drain_announced"]
    assert redis_connection(app).info("commandstats")["cmdstat_rpush"]["calls"] <= 10


def test_pushes_arriving_one_by_one_are_handed_over_together(app, store):
    """One push a millisecond, as a gunicorn sync worker takes them: the announcer waits
    LINGER_SECONDS after the first id, so 20 pushes cost a few Redis round trips, not 20."""
    announcer = intake.Announcer.of(app)
    redis = redis_connection(app)
    redis.config_resetstat()
    started = time.monotonic()
    for delivery_id in range(1, 21):
        announcer.put(delivery_id)
        time.sleep(0.001)
    spread = time.monotonic() - started
    assert announcer.flush(5)
    assert [int(i) for i in redis.lrange(intake.PENDING_KEY, 0, -1)] == list(range(1, 21))
    # at most one round trip per 10 ms of the burst (a loaded machine spreads it out)
    calls = redis.info("commandstats")["cmdstat_rpush"]["calls"]
    assert calls <= spread / 0.01 + 2


def test_a_forked_process_announces_through_its_own_thread(app, store):
    """gunicorn forks its workers: the child must not reuse the parent's announcer, whose
    thread does not exist in the child."""
    parent = intake.Announcer.of(app)
    parent.put(1)
    assert parent.flush(5)
    pid = os.fork()
    if pid == 0:  # the child: announce, wait, and report through the exit status
        ok = False
        try:
            child = intake.Announcer.of(app)
            child.put(2)
            ok = child is not parent and child.flush(5)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert redis_connection(app).lrange(intake.PENDING_KEY, 0, -1) == [b"1", b"2"]


def _id(delivery: str) -> int:
    return db.session.scalar(
        select(WebhookDelivery.id).where(WebhookDelivery.delivery_id == delivery)
    )


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

    from hub.jobs import schedule
    from hub.models import utcnow

    live = app.extensions["hub.redis"]
    app.extensions["hub.redis"] = Redis(unix_socket_path="/nonexistent/redis.sock")
    try:
        push(client, store, "old")
        push(client, store, "new")
        assert intake.flush_announcements(app, timeout=60)
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


def test_hub_webhook_stranded_seconds_sets_when_the_tick_requeues(app, client, store):
    """HUB_WEBHOOK_STRANDED_SECONDS: after a Redis restart lost the queue, a deployment (or the
    soak test) need not wait the default five minutes for the tick to pick deliveries up."""
    from datetime import timedelta

    from hub.jobs import schedule
    from hub.models import utcnow

    app.config["WEBHOOK_STRANDED_SECONDS"] = 15
    live = app.extensions["hub.redis"]
    app.extensions["hub.redis"] = Redis(unix_socket_path="/nonexistent/redis.sock")
    try:
        push(client, store, "lost-in-the-restart")
        push(client, store, "just-now")
        assert intake.flush_announcements(app, timeout=60)
    finally:
        app.extensions["hub.redis"] = live
    lost = db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.delivery_id == "lost-in-the-restart")
    )
    lost.received_at = utcnow() - timedelta(seconds=16)
    db.session.commit()
    schedule.tick()
    assert queued_functions() == ["process_delivery"]
    assert queue(WEBHOOKS).jobs[0].args == (lost.id,)
