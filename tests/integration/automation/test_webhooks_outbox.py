"""Outbound webhooks of rules (A1): the outbox written in the caller's transaction, delivered
with Standard Webhooks signatures to a real local HTTP receiver that fails, delays, throttles
and disables; retries with backoff honouring Retry-After; the SSRF guard; the delivery log API
and redelivery. The clock of the retry schedule is passed in (``deliver_due(now=...)``), the
HTTP is real."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from hub.automation import delivery, outbox
from hub.core.errors import Refused
from hub.extensions import db
from hub.models import OutboxAttempt, OutboxDelivery, utcnow
from tests.support.webhook_receiver import receivers, verify

SECRET_KEY = b"receiver's shared key \x00\xff"
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()
PAYLOAD = {
    "type": "first_purchase",
    "rule": {"id": 7, "name": "VIP"},
    "event": {"id": 1, "type": "purchase", "amount": Decimal("250.00"), "source": "youzan"},
    "customer": {"id": 3, "name": "王小明", "stage": "customer", "score": 10, "tags": ["VIP"]},
}


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    yield from receivers()


@pytest.fixture
def hooks_app(app):
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_TIMEOUT_SECONDS=1)
    return app


def _enqueue(workspace, url: str, **kw: Any) -> int:
    new_id = outbox.enqueue(
        db.session, workspace.id, url=url, secret=kw.pop("secret", SECRET),
        event_type="first_purchase", payload=PAYLOAD, rule_id=7, **kw,
    )  # fmt: skip
    db.session.commit()
    return new_id


def _row(delivery_id: int) -> OutboxDelivery:
    db.session.expire_all()
    row = db.session.get(OutboxDelivery, delivery_id)
    assert row is not None
    return row


def test_a1_webhook_signature_and_retries(hooks_app, workspace, receiver_factory):
    receiver = receiver_factory(
        (500, {}, 0.0),  # fails
        (200, {}, 3.0),  # answers after the hub's 1 s timeout
        (429, {"Retry-After": "120"}, 0.0),  # throttled: come back in two minutes
        (503, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}, 0.0),  # an HTTP date
        (200, {}, 0.0),
    )
    delivery_id = _enqueue(workspace, receiver.url)
    row = _row(delivery_id)
    assert row.status == "pending" and row.secret_enc and SECRET.encode() not in row.secret_enc

    t0 = utcnow()
    assert delivery.deliver_due(now=t0) == 1
    row = _row(delivery_id)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    wait = (row.next_attempt_at - t0).total_seconds()
    assert 4.5 <= wait <= 5.5  # 5 s, ±10% jitter

    assert delivery.deliver_due(now=t0 + timedelta(seconds=4)) == 0  # not due yet
    t1 = t0 + timedelta(seconds=6)
    assert delivery.deliver_due(now=t1) == 1
    row = _row(delivery_id)
    assert row.status == "pending" and row.last_status_code is None
    assert "within 1 s" in row.last_error
    assert 270 <= (row.next_attempt_at - t1).total_seconds() <= 330  # 5 min

    t2 = t1 + timedelta(seconds=331)
    assert delivery.deliver_due(now=t2) == 1
    row = _row(delivery_id)
    assert (row.status, row.last_status_code) == ("pending", 429)
    assert (row.next_attempt_at - t2).total_seconds() == 120  # Retry-After, exactly

    assert delivery.deliver_due(now=t2 + timedelta(seconds=119)) == 0
    t3 = t2 + timedelta(seconds=121)
    assert delivery.deliver_due(now=t3) == 1
    row = _row(delivery_id)
    assert (row.status, row.last_status_code) == ("pending", 503)
    # an HTTP date decades away is capped at a day
    assert (row.next_attempt_at - t3).total_seconds() == 86400

    t4 = t3 + timedelta(days=1, seconds=1)
    assert delivery.deliver_due(now=t4) == 1
    row = _row(delivery_id)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 5, 200)
    assert row.delivered_at == t4

    # The receiver saw five posts of the same message: same webhook-id, same bytes, each
    # signed for its own timestamp, verified with the Standard Webhooks algorithm.
    assert len(receiver.requests) == 5
    ids = {h["webhook-id"] for h, _ in receiver.requests}
    bodies = {b for _, b in receiver.requests}
    assert ids == {row.msg_id} and len(bodies) == 1
    for headers, body in receiver.requests:
        assert verify(SECRET, headers, body)
        assert headers["content-type"] == "application/json"
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30
    sent = json.loads(bodies.pop())
    assert sent["event"]["amount"] == "250.00" and sent["customer"]["name"] == "王小明"
    assert not verify("whsec_" + base64.b64encode(b"another key").decode(), *receiver.requests[0])

    log = db.session.scalars(
        select(OutboxAttempt).where(OutboxAttempt.delivery_id == delivery_id)
    ).all()
    assert [a.status_code for a in log] == [500, None, 429, 503, 200]
    assert log[1].duration_ms >= 900 and "within 1 s" in log[1].error


def test_a1_webhook_secret_without_whsec_prefix_signs_with_its_utf8(hooks_app, workspace,
                                                                     receiver_factory):  # fmt: skip
    receiver = receiver_factory((200, {}, 0.0))
    _enqueue(workspace, receiver.url, secret="plain secret ✓")
    assert delivery.deliver_due() == 1
    headers, body = receiver.requests[0]
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    digest = hmac.new("plain secret ✓".encode(), signed, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_a1_webhook_gives_up_after_about_a_day(hooks_app, workspace, receiver_factory):
    receiver = receiver_factory(*[(500, {}, 0.0)] * 8)
    delivery_id = _enqueue(workspace, receiver.url)
    now, waited = utcnow(), timedelta()
    for _ in range(8):
        assert delivery.deliver_due(now=now) == 1
        row = _row(delivery_id)
        if row.status != "pending":
            break
        waited += row.next_attempt_at - now
        now = row.next_attempt_at
    assert (row.status, row.attempts) == ("failed", 8)
    assert timedelta(hours=24) <= waited <= timedelta(hours=36)  # about a day (≈ 31.6 h)
    assert delivery.deliver_due(now=now + timedelta(days=3)) == 0


def test_a1_webhook_410_disables_the_target(hooks_app, client, workspace, receiver_factory):
    from hub.services import tokens

    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}
    gone = receiver_factory((410, {}, 0.0), (200, {}, 0.0), (200, {}, 0.0))
    first, second = _enqueue(workspace, gone.url), _enqueue(workspace, gone.url)
    waiting = _row(second)
    waiting.next_attempt_at = utcnow() + timedelta(hours=1)  # pending, not yet due
    db.session.commit()
    assert delivery.deliver_due() == 1  # the 410 disables the second before its turn
    assert (_row(first).status, _row(first).last_status_code) == ("disabled", 410)
    assert _row(second).status == "disabled" and len(gone.requests) == 1
    later = _enqueue(workspace, gone.url)  # a rule firing afterwards writes it disabled
    assert _row(later).status == "disabled"
    assert delivery.deliver_due() == 0 and len(gone.requests) == 1

    listed = client.get("/api/v1/webhook-targets/disabled", headers=auth).get_json()
    assert [t["url"] for t in listed["items"]] == [gone.url]
    refused = client.post(f"/api/v1/webhook-deliveries/{second}/redeliver", headers=auth)
    assert refused.status_code == 409 and "enable it" in refused.get_json()["error"]["message"]

    enabled = client.post("/api/v1/webhook-targets/enable", json={"url": gone.url}, headers=auth)
    assert enabled.status_code == 200
    assert _row(_enqueue(workspace, gone.url)).status == "pending"
    again = client.post(f"/api/v1/webhook-deliveries/{second}/redeliver", headers=auth)
    assert again.status_code == 200 and again.get_json()["status"] == "delivered"
    assert gone.requests[-1][0]["webhook-id"] == _row(second).msg_id


def test_a1_webhook_ssrf_refused_unless_allowed(app, workspace, receiver_factory, monkeypatch):
    for url in ("http://127.0.0.1:8000/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                "http://[::1]/x", "https://localhost/x", "http://0x7f.1/x",
                "http://[::ffff:192.168.0.1]/x"):  # fmt: skip
        with pytest.raises(Refused) as refused:
            outbox.check_target(url, allow_private=False)
        assert refused.value.field == "url"
        assert "HUB_WEBHOOK_ALLOW_PRIVATE=true" in str(refused.value), url
        outbox.check_target(url, allow_private=True)
    for url in ("ftp://example.com/x", "file:///etc/passwd", "", "http://user:pw@example.com/"):
        with pytest.raises(Refused) as refused:
            outbox.check_target(url, allow_private=True)
        assert refused.value.field == "url"
    outbox.check_target("http://93.184.215.14/hook", allow_private=False)  # public, http allowed

    # Checked again when sending: the receiver on 127.0.0.1 is never reached while the flag
    # is off, and the attempt says why.
    receiver = receiver_factory((200, {}, 0.0))
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    delivery_id = _enqueue(workspace, receiver.url)
    assert delivery.deliver_due() == 1
    row = _row(delivery_id)
    assert row.status == "pending" and receiver.requests == []
    assert "loopback" in row.last_error and "HUB_WEBHOOK_ALLOW_PRIVATE=true" in row.last_error
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert delivery.deliver_due(now=row.next_attempt_at) == 1
    assert _row(delivery_id).status == "delivered" and len(receiver.requests) == 1


def test_a1_webhook_delivery_log_api_and_redelivery(hooks_app, client, workspace,
                                                    other_workspace, receiver_factory):  # fmt: skip
    from hub.services import tokens

    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}
    receiver = receiver_factory((500, {}, 0.0), (200, {}, 0.0), (200, {}, 0.0))
    failing = _enqueue(workspace, receiver.url)
    other = outbox.enqueue(
        db.session, other_workspace.id, url=receiver.url, secret="s",
        event_type="purchase", payload={"type": "purchase"},
    )  # fmt: skip
    db.session.commit()
    assert delivery.deliver_due() == 2  # 500 for ours, 200 for the other workspace's

    listed = client.get("/api/v1/webhook-deliveries", headers=auth).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["id"] == failing and item["status"] == "pending"
    assert item["last_status_code"] == 500 and item["attempts"] == 1
    assert item["url"] == receiver.url and item["event_type"] == "first_purchase"
    assert item["next_attempt_at"] and item["created_at"] and item["delivered_at"] is None
    assert [a["status_code"] for a in item["attempt_log"]] == [500]
    assert "secret" not in json.dumps(item).lower().replace("secret_", "")
    assert (
        client.get("/api/v1/webhook-deliveries?status=delivered", headers=auth).get_json()["total"]
        == 0
    )
    assert client.get("/api/v1/webhook-deliveries?rule_id=7", headers=auth).get_json()["total"] == 1
    bad = client.get("/api/v1/webhook-deliveries?status=sent", headers=auth)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "status"
    assert client.get(f"/api/v1/webhook-deliveries/{other}", headers=auth).status_code == 404

    # Redelivery: an attempt now (not at the backoff's time), same webhook-id and body.
    redone = client.post(f"/api/v1/webhook-deliveries/{failing}/redeliver", headers=auth)
    assert redone.status_code == 200
    data = redone.get_json()
    assert data["status"] == "delivered" and data["last_status_code"] == 200
    assert [a["manual"] for a in data["attempt_log"]] == [False, True]
    ours = [r for r in receiver.requests if r[0]["webhook-id"] == _row(failing).msg_id]
    assert len(ours) == 2 and ours[0][1] == ours[1][1]
    # A delivered one can be sent again by hand (the receiver lost it): same id again.
    assert (
        client.post(f"/api/v1/webhook-deliveries/{failing}/redeliver", headers=auth).get_json()[
            "attempts"
        ]
        == 3
    )
    detail = client.get(f"/api/v1/webhook-deliveries/{failing}", headers=auth).get_json()
    assert detail["webhook_id"] == _row(failing).msg_id and len(detail["attempt_log"]) == 3


def test_a1_webhook_outbox_is_the_callers_transaction(hooks_app, workspace):
    """enqueue writes nothing of its own: a rolled back event leaves no delivery behind, and
    enqueue_many writes a batch in one statement."""
    outbox.enqueue(
        db.session, workspace.id, url="http://example.com/h", secret="s",
        event_type="purchase", payload={"type": "purchase"},
    )  # fmt: skip
    db.session.rollback()
    assert db.session.scalars(select(OutboxDelivery)).all() == []
    rows = [
        {"url": "http://example.com/h", "secret": "s", "event_type": "purchase",
         "payload": {"type": "purchase", "n": n}, "rule_id": 1, "rule_run_id": n}
        for n in range(3)
    ]  # fmt: skip
    outbox.enqueue_many(db.session, workspace.id, rows)
    db.session.commit()
    stored = db.session.scalars(select(OutboxDelivery).order_by(OutboxDelivery.id)).all()
    assert [json.loads(r.body)["n"] for r in stored] == [0, 1, 2]
    assert len({r.msg_id for r in stored}) == 3 and {r.status for r in stored} == {"pending"}
    assert outbox.decrypt_secret(stored[0].secret_enc) == "s"


def test_a1_rule_webhook_end_to_end_signed_once(hooks_app, client, workspace, receiver_factory):
    """The issue's story: "first purchase ≥ 200 → tag VIP and call my webhook" fires on the
    order, the signed delivery reaches the receiver and shows in the log; a replay of the same
    order sends nothing more."""
    from hub.core import ingest
    from hub.services import tokens
    from tests.support.orders import order

    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}
    receiver = receiver_factory((200, {}, 0.0))
    rule = client.post(
        "/api/v1/rules",
        json={
            "name": "First purchase ≥ 200 → VIP",
            "trigger": {"type": "first_purchase"},
            "conditions": [{"field": "amount", "op": "gte", "value": "200"}],
            "actions": [{"type": "add_tag", "tag": "VIP"},
                        {"type": "webhook", "url": receiver.url, "secret": SECRET}],
            "enabled": True,
        },
        headers=auth,
    )  # fmt: skip
    assert rule.status_code == 201, rule.get_json()
    rule_id = rule.get_json()["id"]
    for version in (1, 2):  # the order, then a replay of it
        rec = order("E1", identities=[("yz_open_id", "amy")], name="amy", paid="250.00",
                    version=version)  # fmt: skip
        ingest.apply(db.session, workspace.id, [rec])
        assert delivery.deliver_due() == (1 if version == 1 else 0)
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert verify(SECRET, headers, body)
    sent = json.loads(body)
    assert sent["type"] == "first_purchase" and sent["rule"]["id"] == rule_id
    assert sent["customer"]["tags"] == ["VIP"] and sent["event"]["amount"] == "250.00"
    log = client.get(f"/api/v1/webhook-deliveries?rule_id={rule_id}", headers=auth).get_json()
    assert log["total"] == 1 and log["items"][0]["status"] == "delivered"
    assert log["items"][0]["webhook_id"] == headers["webhook-id"]


def test_a1_webhook_secret_unreadable_fails_without_sending(hooks_app, workspace,
                                                            receiver_factory):  # fmt: skip
    """A secret stored under another HUB_ENCRYPTION_KEY cannot sign: the delivery fails and
    says why, it is never sent unsigned, and no worker retries it for ever."""
    receiver = receiver_factory((200, {}, 0.0))
    delivery_id = _enqueue(workspace, receiver.url)
    row = _row(delivery_id)
    row.secret_enc = outbox.encrypt_secret(SECRET, key="a key of another installation")
    db.session.commit()
    assert delivery.deliver_due() == 1
    row = _row(delivery_id)
    assert row.status == "failed" and "HUB_ENCRYPTION_KEY" in row.last_error
    assert receiver.requests == [] and delivery.deliver_due() == 0


def test_a1_webhook_due_rows_are_queued_once_by_the_maintenance_pass(hooks_app, workspace,
                                                                     receiver_factory):  # fmt: skip
    """The commit queues a delivery job (fast path); the workers' maintenance pass queues one
    more only while none of its own waits, however many passes see the rows due."""
    from hub.jobs.queues import WEBHOOKS, queue

    receiver = receiver_factory((200, {}, 0.0))
    jobs = queue(WEBHOOKS)
    assert delivery.dispatch_due() is False and jobs.count == 0  # nothing due
    delivery_id = _enqueue(workspace, receiver.url)
    assert jobs.count == 1  # queued by the commit
    assert delivery.dispatch_due() is True and delivery.dispatch_due() is True
    assert jobs.count == 2  # the maintenance's one, not one per pass
    assert [j.func_name for j in jobs.jobs] == [outbox.DELIVERY_JOB] * 2
    assert delivery.deliver_due_job() == 1  # what a worker runs
    assert _row(delivery_id).status == "delivered"
    assert delivery.dispatch_due() is False


def test_a1_webhook_slow_receivers_are_waited_for_side_by_side(hooks_app, workspace,
                                                               receiver_factory):  # fmt: skip
    """One job sends HUB_WEBHOOK_CONCURRENCY deliveries at once: eight answers that take a
    second each cost about a second, not eight."""
    hooks_app.config.update(WEBHOOK_TIMEOUT_SECONDS=5, WEBHOOK_CONCURRENCY=8)
    receiver = receiver_factory(*[(200, {}, 1.0)] * 8)
    ids = [_enqueue(workspace, receiver.url) for _ in range(8)]
    started = time.monotonic()
    assert delivery.deliver_due() == 8
    assert time.monotonic() - started < 4.0  # one at a time: at least 8 s
    assert {_row(i).status for i in ids} == {"delivered"}
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 8
