"""A1 + X2 for outbound webhooks, with real processes: a ``hub worker`` SIGKILLed while a
receiver holds its delivery does not lose it. The claim lapses, another worker's maintenance
pass finds the delivery due and sends it again with the same webhook-id (at least once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.extensions import db
from hub.models import OutboxDelivery, utcnow
from tests.integration.automation.test_webhooks_outbox import SECRET, _enqueue
from tests.support.webhook_receiver import Receiver, verify
from tests.support.workers import Workers, kill_all, wait_for

CLAIM = 3  # seconds a worker holds a delivery it claimed


@pytest.fixture
def workers(app, database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    procs = Workers(
        tmp_path, database_url, redis_url,
        WEBHOOK_ALLOW_PRIVATE="true",
        WEBHOOK_CLAIM_SECONDS=CLAIM,
        MAINTENANCE_SECONDS=1,
    )  # fmt: skip
    yield procs
    procs.close()


def _status(delivery_id: int) -> OutboxDelivery:
    db.session.expire_all()
    row = db.session.get(OutboxDelivery, delivery_id)
    db.session.rollback()
    assert row is not None
    return row


def test_a1_webhook_worker_killed_mid_delivery_delivers_again(app, workspace, workers):
    receiver = Receiver([(200, {}, 30.0), (200, {}, 0.0)])  # the first answer never comes
    try:
        first = workers.start("first", "webhooks")
        delivery_id = _enqueue(workspace, receiver.url)  # its commit queues the delivery job
        assert receiver.got.wait(30), workers.log("first")
        claimed = _status(delivery_id)
        assert claimed.status == "delivering" and claimed.attempts == 1
        held_until = claimed.claimed_until
        kill_all(first)

        workers.start("second", "webhooks")
        wait_for(lambda: _status(delivery_id).status == "delivered", 30, "the redelivery")
        row = _status(delivery_id)
        assert row.attempts == 2 and row.last_status_code == 200
        # not sent again before the dead worker's claim lapsed
        assert held_until is not None and row.delivered_at >= held_until
        assert len(receiver.requests) == 2
        assert {h["webhook-id"] for h, _ in receiver.requests} == {row.msg_id}
        assert all(verify(SECRET, h, b) for h, b in receiver.requests)
        assert row.delivered_at <= utcnow()
    finally:
        receiver.close()
