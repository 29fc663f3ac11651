"""Youzan pushes end to end: the sandbox signs and POSTs to the hub served over real HTTP;
the inbox dedupes on msg_id, the worker fetches each trade and ingests it (X1, X3)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from hub.core.errors import TransientError
from hub.extensions import db
from hub.inbox import processing
from hub.models import Order, WebhookDelivery
from tests.integration.youzan.conftest import hub_orders, run_webhook_worker, sync


@pytest.fixture
def sandbox_orders() -> int:
    return 30


@pytest.fixture
def pushing(sandbox, store, hub_server):
    def configure(**settings):
        url = f"{hub_server}/webhooks/youzan/{store.id}"
        return sandbox.control("push", url=url, retry_delays=[0.01, 0.02], **settings)

    return configure


def inbox_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(WebhookDelivery.id)))


def lifecycle(sandbox, n: int) -> list[str]:
    """n new orders, each paid, shipped and completed, one refunded, one closed."""
    tids = sandbox.control("orders", count=n, paid=True)["tids"]
    for tid in tids[1:]:
        sandbox.control(f"orders/{tid}/ship")
        sandbox.control(f"orders/{tid}/succeed")
    sandbox.control(f"orders/{tids[0]}/close")
    sandbox.control(f"orders/{tids[1]}/refund", amount="3.00")
    return tids


def test_pushes_with_duplicates_and_reordering_end_equal_to_the_truth(
    app, workspace, store, sandbox, pushing
):
    pushing(duplicate=True, reorder=True)
    tids = lifecycle(sandbox, 6)
    sent = sandbox.control("push/flush")["sent"]
    assert len(sent) == 2 * (6 + 6 + 5 + 5 + 1 + 1) and all(s["acked"] for s in sent)
    assert inbox_count() == len({s["msg_id"] for s in sent})  # each msg_id stored once
    run_webhook_worker(app)
    truth, got = sandbox.truth(), hub_orders(workspace.id)
    # tids[0] was closed before any push was processed: first seen closed, never stored
    assert tids[0] not in got
    assert {t: got[t] for t in tids[1:]} == {t: truth[t] for t in tids[1:]}
    statuses = set(db.session.scalars(select(WebhookDelivery.status)))
    assert statuses == {"processed"}


def test_an_older_push_processed_last_never_regresses_the_order(
    app, workspace, store, sandbox, pushing
):
    pushing()
    [tid] = sandbox.control("orders", count=1, paid=True)["tids"]
    sandbox.control("push/flush")
    early = db.session.scalar(select(WebhookDelivery.id))
    sandbox.control(f"orders/{tid}/ship")
    sandbox.control(f"orders/{tid}/succeed")
    sandbox.control("push/flush")
    run_webhook_worker(app)
    assert hub_orders(workspace.id)[tid]["status"] == "completed"
    processing.replay(workspace.id, early)  # the "paid" push again, after the newer ones
    run_webhook_worker(app)
    assert hub_orders(workspace.id)[tid]["status"] == "completed"
    assert hub_orders(workspace.id)[tid]["events"] == {"purchase": 1, "return": 0, "cancel": 0}


def test_a_push_with_a_bad_signature_is_401_retried_and_nothing_stored(
    app, workspace, store, sandbox, pushing
):
    pushing(bad_sign=True)
    sandbox.control("orders", count=1, paid=False)
    [sent] = sandbox.control("push/flush")["sent"]
    assert (sent["acked"], sent["attempts"]) == (False, 3)
    log = sandbox.get("pushes")["log"]
    assert [(x["status"], x["sendCount"]) for x in log] == [(401, 0), (401, 1), (401, 2)]
    assert inbox_count() == 0
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_query_lag_after_a_push_is_retried_until_the_trade_is_visible(
    app, workspace, store, sandbox, pushing
):
    pushing()
    sandbox.control("faults", lag_seconds=1.5)
    [tid] = sandbox.control("orders", count=1, paid=True)["tids"]
    sandbox.control("push/flush")
    rows = db.session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)).all()
    with pytest.raises(TransientError, match="not visible|not up to date"):
        processing.process_delivery(rows[-1])
    assert tid not in hub_orders(workspace.id)
    time.sleep(1.6)
    assert processing.process_delivery(rows[-1]) == "processed"
    assert hub_orders(workspace.id)[tid]["status"] == "paid"
    sandbox.control(f"orders/{tid}/ship")  # the query API keeps the "paid" snapshot a while
    sandbox.control("push/flush")
    last = db.session.scalar(select(func.max(WebhookDelivery.id)))
    with pytest.raises(TransientError, match="not up to date"):
        processing.process_delivery(last)
    time.sleep(1.6)
    assert processing.process_delivery(last) == "processed"
    assert hub_orders(workspace.id)[tid]["status"] == "shipped"


def test_pushes_and_polling_feed_one_state(app, workspace, store, sandbox, pushing):
    pushing(reorder=True)
    tids = lifecycle(sandbox, 4)
    sandbox.control("push/flush")
    run_webhook_worker(app)
    after_pushes = hub_orders(workspace.id)
    assert sync(store).status == "succeeded"
    got = hub_orders(workspace.id)
    assert {t: got[t] for t in tids[1:]} == {t: after_pushes[t] for t in tids[1:]}
    assert got == sandbox.expected() | {t: got[t] for t in got if t not in sandbox.expected()}


def test_a_signed_deeply_nested_push_is_a_400_and_nothing_is_stored(client, store):
    from connectors.youzan.sandbox_data import CLIENT_ID, CLIENT_SECRET
    from connectors.youzan.webhooks import expected_sign

    body = b"[" * 100_000 + b"]" * 100_000
    headers = {"Event-Sign": expected_sign(CLIENT_ID, body, CLIENT_SECRET)}
    answer = client.post(f"/webhooks/youzan/{store.id}", data=body, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_delivery"
    assert inbox_count() == 0
