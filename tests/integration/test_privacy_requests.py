"""Privacy requests (Shopify's compliance webhooks) through the core's one writer, as the
webhook job hands them over (``ingest.apply`` with the connection): customer_redact and
shop_redact erase personal data from every table and keep anonymous order facts;
data_request keeps a report the admin reads from the API and the Settings page."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hub.core import ingest
from hub.core.errors import InvalidRecord
from hub.core.records import Consignee, PrivacyRecord
from hub.extensions import db
from hub.models import (
    Customer,
    Event,
    Identity,
    Order,
    OrderLine,
    OutboxAttempt,
    OutboxDelivery,
    PrivacyRequest,
    WebhookDelivery,
)
from hub.services import rules as rule_service
from hub.services import tokens
from tests.support.fake_platform import add_connection
from tests.support.orders import order
from tests.support.ui import browser, login, make_user

API = "/api/v1"
SHOPIFY_ID = "9007199254740993"  # above 2^53
PERSONAL = ("Ann Lee", "ann@shop.example", "13912340000", "1 Lake Rd", "PAY-ann", "ring me")


def shopify_order(ext: str, *, shopify_id: str = SHOPIFY_ID, email: str = "ann@shop.example",
                  name: str = "Ann Lee", more: list[tuple[str, str]] = ()):  # fmt: skip
    rec = order(ext, source="shopify", identities=[("shopify_customer_id", shopify_id),
                                                   ("email", email), *more], name=name)  # fmt: skip
    rec.buyer.email = email
    rec.payment_no = f"PAY-{email.split('@')[0]}"
    rec.consignee = Consignee(name=name, phone="13912340000", city="Hangzhou", address="1 Lake Rd")
    rec.properties = {"email": email, "note": "ring me", "financial_status": "paid"}
    rec.lines[0].properties = {"engraving": name}
    return rec


@pytest.fixture
def store(workspace, tmp_path):
    data = tmp_path / "orders.json"
    data.write_text("[]")
    return add_connection(workspace.id, data, store="acme")


def delivery(workspace, store, delivery_id: str, body: str, status: str = "processed"):
    """A webhook delivery in the inbox, as the intake stores it."""
    db.session.add(
        WebhookDelivery(
            workspace_id=workspace.id,
            connection_id=store.id,
            platform="shopify",
            delivery_id=delivery_id,
            topic="orders/create",
            body=body.encode(),
            status=status,
        )
    )
    db.session.commit()  # fmt: skip


@pytest.fixture
def hook(app, workspace):
    """A rule that calls a webhook on every purchase: the outbox holds a body per order."""
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True)
    return rule_service.create(workspace.id, {
        "name": "every purchase", "trigger": {"type": "purchase"},
        "actions": [{"type": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "s" * 16}],
    })  # fmt: skip


def outbox_bodies() -> list[dict]:
    db.session.expire_all()
    return [json.loads(b) for b in db.session.scalars(select(OutboxDelivery.body).order_by(
        OutboxDelivery.id))]  # fmt: skip


def delivered_with_echo(delivery_id: int, echo: str) -> None:
    """The delivery as the log keeps it once sent: a 200 whose answer echoed the body."""
    row = db.session.get(OutboxDelivery, delivery_id)
    row.status, row.attempts, row.last_status_code = "delivered", 1, 200
    db.session.add(OutboxAttempt(delivery_id=delivery_id, status_code=200, response_excerpt=echo))
    db.session.commit()


def apply(workspace, store, *records):
    return ingest.apply(db.session, workspace.id, list(records), connection_id=store.id)


def everything() -> str:
    """Every row of every table, as text."""
    db.session.expire_all()
    return repr([db.session.execute(t.select()).all() for t in db.metadata.sorted_tables])


def order_facts() -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(
        select(Order.external_id, Order.status, Order.amount_total, Order.amount_paid,
               Order.ordered_at, func.count(OrderLine.id))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .group_by(Order.id).order_by(Order.external_id)
    ).all()  # fmt: skip


def test_customer_redact_erases_personal_data_from_every_table_and_keeps_order_facts(
    workspace, store, hook
):
    apply(workspace, store, shopify_order("S1"), shopify_order("S2"))
    first, second = db.session.scalars(select(OutboxDelivery.id).order_by(OutboxDelivery.id))
    delivered_with_echo(first, '{"got": "Ann Lee"}')
    apply(workspace, store, PrivacyRecord("shopify", "data_request", "dr-1", SHOPIFY_ID))
    delivery(workspace, store, "w1", '{"id": 1, "email": "Ann@Shop.example", "note": "ring me"}')
    delivery(workspace, store, "w2", '{"id": 2, "email": "zed@shop.example"}', status="received")
    facts, events = order_facts(), db.session.scalar(select(func.count(Event.id)))
    assert all(value in everything() for value in PERSONAL)
    result = apply(workspace, store, PrivacyRecord("shopify", "customer_redact", "r-1", SHOPIFY_ID))
    assert result.counts["privacy_requests"] == {"customer_redact": 1}
    assert result.privacy_requests == [
        db.session.scalar(select(PrivacyRequest.id).where(PrivacyRequest.request_id == "r-1"))
    ]
    dump = everything()
    assert [value for value in PERSONAL if value in dump] == []
    assert SHOPIFY_ID not in dump
    assert order_facts() == facts and db.session.scalar(select(func.count(Event.id))) == events
    # The customer stays, anonymous, with its orders: analyses still count it.
    [cust] = db.session.scalars(select(Customer)).all()
    assert (cust.name, cust.email, cust.mobile, cust.properties) == (None, None, None, {})
    assert db.session.scalar(select(func.count(Order.id)).where(Order.customer_id == cust.id)) == 2
    assert db.session.scalar(select(Order.properties).where(Order.external_id == "S1")) == {
        "financial_status": "paid"
    }
    audit = db.session.scalar(select(PrivacyRequest).where(PrivacyRequest.request_id == "r-1"))
    assert audit.status == "done" and audit.customer_id == cust.id
    # its Shopify id, e-mail and the contact mobile its orders brought
    assert audit.erased["orders"] == 2 and audit.erased["identities"] == 3
    assert "consignee_name" in audit.erased["order_fields"]
    assert audit.erased["earlier_reports"] == 1
    # The inbox keeps the deliveries (ids, topics, outcomes), not the person.
    assert audit.erased["webhook_deliveries"] == 1
    rows = db.session.execute(select(WebhookDelivery.delivery_id, WebhookDelivery.body))
    bodies = {key: bytes(body) for key, body in rows}
    assert bodies == {"w1": b"", "w2": b'{"id": 2, "email": "zed@shop.example"}'}
    # The outbound webhooks about her, delivered and pending, keep anonymous facts only: the
    # pending one is sent without her name, the logged answer that echoed it is gone.
    assert audit.erased["outbox_deliveries"] == 2
    hooks = outbox_bodies()
    assert [h["customer"] for h in hooks] == [{"id": cust.id, "stage": cust.stage,
        "score": cust.activity_score, "tags": []}] * 2  # fmt: skip
    assert [h["event"]["amount"] for h in hooks] == ["100.00", "100.00"]
    statuses = db.session.execute(select(OutboxDelivery.status).order_by(OutboxDelivery.id))
    assert [s for (s,) in statuses] == ["delivered", "pending"]
    assert db.session.scalars(select(OutboxAttempt.status_code)).all() == [200]
    assert db.session.scalars(select(OutboxAttempt.response_excerpt)).all() == [None]


def test_customer_redact_covers_the_customers_merged_into_hers(workspace, store, hook):
    """Bob was merged into Ann (the same person): redacting Ann erases what the hub held as
    Bob too: his row and the outbound webhooks about him."""
    from hub.core import merge

    apply(workspace, store, shopify_order("S1"))
    apply(workspace, store, shopify_order("S2", shopify_id="77", email="bob.lee@shop.example",
                                          name="Bob Lee"))  # fmt: skip
    ann, bob = (db.session.scalar(select(Identity.customer_id).where(Identity.value == v))
                for v in (SHOPIFY_ID, "77"))  # fmt: skip
    merge.merge(db.session, workspace.id, ann, bob, reason="same person")
    db.session.commit()
    assert "Bob Lee" in everything()
    apply(workspace, store, PrivacyRecord("shopify", "customer_redact", "r-m", SHOPIFY_ID))
    dump = everything()
    assert "Bob Lee" not in dump and "bob.lee@shop.example" not in dump
    assert [value for value in PERSONAL if value in dump] == []
    audit = db.session.scalar(select(PrivacyRequest).where(PrivacyRequest.request_id == "r-m"))
    assert audit.erased["outbox_deliveries"] == 2
    assert {h["customer"]["id"] for h in outbox_bodies()} == {ann, bob}
    assert all("name" not in h["customer"] for h in outbox_bodies())


def test_customer_redact_by_email_and_of_orders_without_a_contact(workspace, store):
    apply(workspace, store, shopify_order("S1"))
    anonymous = shopify_order("S9")
    anonymous.buyer = None
    apply(workspace, store, anonymous)
    redact = PrivacyRecord("shopify", "customer_redact", "r-2", email="ANN@shop.example",
                           orders=["S9"])  # fmt: skip
    apply(workspace, store, redact)
    assert [value for value in PERSONAL if value in everything()] == []
    assert len(order_facts()) == 2


def test_shop_redact_erases_the_stores_customers_that_no_other_source_holds(workspace, store, hook):
    other = order("Y1", source="youzan", identities=[("yz_open_id", "yz-bo")], name="Bo Chen")
    other.buyer.mobile = "13700001111"
    other.consignee = Consignee(name="Bo Chen", phone="13700001111", address="9 Hill Rd")
    # Bo also buys on a Youzan shop: only the store's customer id leaves with the store.
    bo_order = shopify_order(
        "S2",
        shopify_id="42",
        email="bo@shop.example",
        name="Bo Chen",
        more=[("yz_open_id", "yz-bo")],
    )
    bo_order.buyer.mobile = "13700001111"
    apply(workspace, store, shopify_order("S1"), bo_order)
    ingest.apply(db.session, workspace.id, [other])
    facts = order_facts()
    delivery(workspace, store, "w1", '{"id": 2, "email": "bo@shop.example"}')
    apply(workspace, store, PrivacyRecord("shopify", "shop_redact", "shop-1"))
    dump = everything()
    assert [value for value in PERSONAL if value in dump] == []
    assert "PAY-bo" not in dump and "42" not in {v for (v,) in db.session.execute(
        select(Identity.value))}  # fmt: skip
    bo = db.session.scalar(select(Customer).where(Customer.name == "Bo Chen"))
    assert bo is not None and bo.email == "bo@shop.example"  # held by the Youzan shop too
    assert order_facts() == facts
    audit = db.session.scalar(select(PrivacyRequest).where(PrivacyRequest.action == "shop_redact"))
    assert audit.erased["customers"] == 1 and audit.erased["shared_customers_unlinked"] == 1
    bodies = [bytes(body) for body in db.session.scalars(select(WebhookDelivery.body))]
    assert audit.erased["webhook_deliveries"] == 1 and bodies == [b""]
    # Ann's outbound webhook loses her name; Bo's keeps his (the Youzan shop holds him too).
    assert audit.erased["outbox_deliveries"] == 1
    names = sorted(str(h["customer"].get("name")) for h in outbox_bodies())
    assert names == ["Bo Chen", "Bo Chen", "None"]


def test_data_request_report_through_the_api_admin_only_and_scoped(
    client, workspace, other_workspace, store
):
    apply(workspace, store, shopify_order("S1"))
    apply(workspace, store, PrivacyRecord("shopify", "data_request", "dr-9", SHOPIFY_ID))
    admin = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}
    listed = client.get(f"{API}/privacy-requests", headers=admin).json
    [item] = listed["items"]
    assert (item["action"], item["request_id"], item["status"]) == ("data_request", "dr-9", "done")
    body = client.get(f"{API}/privacy-requests/{item['id']}", headers=admin).json
    report = body["report"]
    assert report["customer"]["email"] == "ann@shop.example"
    assert ("shopify_customer_id", SHOPIFY_ID) in {
        (i["type"], i["value"]) for i in report["identities"]
    }
    [placed] = report["orders"]
    assert placed["external_id"] == "S1" and len(placed["lines"]) == 2
    assert Decimal(placed["amount_total"]) == Decimal("100.00")
    assert {e["type"] for e in report["events"]} >= {"purchase"}
    reader = {
        "Authorization": f"Bearer {tokens.create_token(workspace.id, 'r', role='read-only')[1]}"
    }
    assert client.get(f"{API}/privacy-requests", headers=reader).status_code == 403
    stranger = {"Authorization": f"Bearer {tokens.create_token(other_workspace.id, 's')[1]}"}
    assert client.get(f"{API}/privacy-requests/{item['id']}", headers=stranger).status_code == 404
    assert client.get(f"{API}/privacy-requests", headers=stranger).json["items"] == []


def test_data_request_for_an_unknown_customer_is_kept_as_not_found(workspace, store):
    apply(workspace, store, PrivacyRecord("shopify", "data_request", "dr-0", "404404"))
    audit = db.session.scalar(select(PrivacyRequest))
    assert audit.status == "not_found" and audit.report["customer"] is None


def test_privacy_requests_settings_page_and_download(app, workspace, store):
    apply(workspace, store, shopify_order("S1"))
    apply(workspace, store, PrivacyRecord("shopify", "data_request", "dr-5", SHOPIFY_ID))
    rid = db.session.scalar(select(PrivacyRequest.id))
    make_user(workspace, "admin@x.test")
    make_user(workspace, "analyst@x.test", role="analyst")
    admin = browser(app)
    login(admin, "admin@x.test")
    page = admin.get("/settings/privacy").get_data(as_text=True)
    assert 'data-test="privacy-requests"' in page and "dr-5" in page and "Data request" in page
    got = admin.get(f"/settings/privacy/{rid}.json")
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    assert got.json["report"]["customer"]["email"] == "ann@shop.example"
    viewer = browser(app)
    login(viewer, "analyst@x.test")
    assert viewer.get("/settings/privacy").status_code == 403


def test_a_privacy_record_that_breaks_the_contract_is_refused_naming_the_field(workspace):
    with pytest.raises(InvalidRecord, match="action"):
        ingest.apply(db.session, workspace.id, [PrivacyRecord("shopify", "forget_me", "x", "1")])
    with pytest.raises(InvalidRecord, match="customer_external_id"):
        ingest.apply(db.session, workspace.id, [PrivacyRecord("shopify", "customer_redact")])
    with pytest.raises(InvalidRecord, match=r"orders\[0\]"):
        ingest.apply(db.session, workspace.id,
                     [PrivacyRecord("shopify", "data_request", orders=[7])])  # fmt: skip
    assert db.session.scalar(select(func.count(PrivacyRequest.id))) == 0
