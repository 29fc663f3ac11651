"""Shopify webhooks end to end: the sandbox's signed sender posting to the hub over real HTTP,
the inbox worker applying them. Bad HMAC (compliance topics included), duplicates, stale
retries, orders/delete, orders/edited, compliance mapping, app/uninstalled."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import Headers

from connectors.shopify.mapping import CUSTOMER_ID
from hub.core.records import PrivacyRecord
from hub.extensions import db
from hub.models import Connection, WebhookDelivery
from hub.sync import runtime
from tests.integration.shopify.conftest import (
    customer_by,
    order,
    order_lines,
    run_webhook_worker,
    sync,
)


@pytest.fixture
def pushing(store, sandbox, hub_server):
    sandbox.control("push", url=f"{hub_server}/webhooks/shopify/{store.id}")
    return sandbox


def deliveries(**where) -> list[WebhookDelivery]:
    db.session.expire_all()
    query = select(WebhookDelivery)
    for key, value in where.items():
        query = query.where(getattr(WebhookDelivery, key) == value)
    return list(db.session.scalars(query.order_by(WebhookDelivery.id)))


def test_webhook_with_a_bad_hmac_is_401_and_nothing_is_stored(app, store, pushing):
    pushing.control("push", bad_hmac=True, retry_delays=[])
    pushing.control("orders", count=1)
    sent = pushing.control("push/flush")["sent"]
    assert sent and all(s["status"] == 401 and not s["acked"] for s in sent)
    cid = next(iter(pushing.truth()["customers"]))
    for topic in ("customers/data_request", "customers/redact", "shop/redact"):
        [s] = pushing.control("push/compliance", topic=topic, customer_id=cid)["sent"]
        assert s["status"] == 401, topic
    assert db.session.scalar(select(func.count(WebhookDelivery.id))) == 0


def test_webhook_duplicate_delivery_is_stored_once_and_creates_the_order(
    app, workspace, store, pushing
):
    pushing.control("push", duplicate=True)
    [oid] = pushing.control("orders", count=1)["ids"]
    sent = pushing.control("push/flush")["sent"]
    assert all(s["acked"] for s in sent)
    ids = [s["webhook_id"] for s in sent]
    assert len(ids) == 2 * len(set(ids))  # every delivery came twice
    stored = deliveries()
    assert sorted(d.delivery_id for d in stored) == sorted(set(ids))
    run_webhook_worker(app)
    assert {d.status for d in deliveries()} == {"processed"}
    got = order(workspace.id, oid)
    assert got is not None and got.order_no == pushing.truth()["orders"][oid]["name"]


def test_webhook_stale_retry_never_moves_an_order_back(app, workspace, store, pushing):
    [oid] = pushing.control("orders", count=1)["ids"]
    pushing.control("push/flush")
    pushing.control("push", stale=True)
    assert pushing.control(f"orders/{oid}/pay")["ok"]
    assert pushing.control(f"orders/{oid}/fulfill")["ok"]
    sent = pushing.control("push/flush")["sent"]
    assert [s["topic"] for s in sent][-1] != "orders/fulfilled"  # an older one came last
    run_webhook_worker(app)
    assert order(workspace.id, oid).status == "shipped"


def test_h7_orders_delete_webhook_deletes_the_order(app, workspace, store, pushing):
    [oid] = pushing.control("orders", count=1)["ids"]
    pushing.control("push/flush")
    run_webhook_worker(app)
    assert order(workspace.id, oid) is not None
    assert pushing.control(f"orders/{oid}/delete")["ok"]
    sent = pushing.control("push/flush")["sent"]
    assert "orders/delete" in [s["topic"] for s in sent]
    run_webhook_worker(app)
    assert order(workspace.id, oid) is None


def test_h7_orders_edited_webhook_rereads_the_order_and_drops_the_line(
    app, workspace, store, pushing
):
    [oid] = pushing.control("orders", count=1)["ids"]
    while len(pushing.truth()["orders"][oid]["line_items"]) < 2:
        [oid] = pushing.control("orders", count=1)["ids"]
    pushing.control("push/flush")
    run_webhook_worker(app)
    assert len(order_lines(order(workspace.id, oid).id)) >= 2
    assert pushing.control(f"orders/{oid}/edit")["ok"]
    topics = [s["topic"] for s in pushing.control("push/flush")["sent"]]
    assert "orders/edited" in topics
    run_webhook_worker(app)
    want = {k: q for k, q in pushing.truth()["orders"][oid]["line_items"].items() if q > 0}
    assert order_lines(order(workspace.id, oid).id) == want


def test_h3_customers_delete_webhook_deletes_nothing(app, workspace, store, pushing):
    cid = pushing.control("customers", email="kept@acme-mail.net")["id"]
    pushing.control("push/flush")
    run_webhook_worker(app)
    assert customer_by(workspace.id, CUSTOMER_ID, cid) is not None
    assert pushing.control(f"customers/{cid}/delete")["ok"]
    assert "customers/delete" in [s["topic"] for s in pushing.control("push/flush")["sent"]]
    run_webhook_worker(app)
    assert customer_by(workspace.id, CUSTOMER_ID, cid) is not None
    assert {d.status for d in deliveries(topic="customers/delete")} == {"processed"}


def test_compliance_topics_are_stored_and_mapped_to_privacy_records(app, store, pushing):
    truth = pushing.truth()
    cid = next(c for c, o in ((o["customer_id"], o) for o in truth["orders"].values()) if c)
    expected_orders = sorted(k for k, o in truth["orders"].items() if o["customer_id"] == cid)
    connector = runtime.connector_for(db.session.get(Connection, store.id))
    got = {}
    for topic in ("customers/data_request", "customers/redact", "shop/redact"):
        [s] = pushing.control("push/compliance", topic=topic, customer_id=cid)["sent"]
        assert s["acked"], topic
        [row] = deliveries(topic=topic)
        [record] = connector.handle_webhook(Headers(row.headers), row.body)
        assert isinstance(record, PrivacyRecord)
        got[topic] = record
    request = got["customers/data_request"]
    assert request.action == "data_request" and request.customer_external_id == cid
    assert sorted(request.orders) == expected_orders and request.request_id
    assert all(isinstance(o, str) and int(o) > 2**53 for o in request.orders)
    redact = got["customers/redact"]
    assert redact.action == "customer_redact" and sorted(redact.orders) == expected_orders
    assert redact.email == truth["customers"][cid]["email"]
    assert got["shop/redact"].action == "shop_redact"
    assert got["shop/redact"].customer_external_id is None


def test_app_uninstalled_marks_the_store_for_binding_again(app, workspace, store, pushing):
    [s] = pushing.control("uninstall")["sent"]
    assert s["acked"] and s["topic"] == "app/uninstalled"
    run_webhook_worker(app)
    db.session.expire_all()
    conn = db.session.get(Connection, store.id)
    assert conn.status == "error" and "uninstalled" in conn.last_error
    run = sync(conn)  # and the next sync fails on the dead token, as a configuration error
    assert run.status == "failed" and run.error_class == "configuration"


def test_refunds_create_webhook_rereads_the_order_and_records_the_refund(
    app, workspace, store, pushing
):
    [oid] = pushing.control("orders", count=1, paid=True)["ids"]
    pushing.control("push/flush")
    run_webhook_worker(app)
    assert order(workspace.id, oid).refunded_amount in (None, 0)
    assert pushing.control(f"orders/{oid}/refund_partial")["ok"]
    topics = [s["topic"] for s in pushing.control("push/flush")["sent"]]
    assert "refunds/create" in topics
    run_webhook_worker(app)
    assert {d.status for d in deliveries(topic="refunds/create")} == {"processed"}
    refunded = pushing.truth()["orders"][oid]["refunded"]
    assert order(workspace.id, oid).refunded_amount == Decimal(refunded) > 0
