"""H3: a customer deleted in the hub stays deleted, whatever a store sends later; H4: the
original source detail, first value kept. Through the API, the UI and the core's one writer
(``ingest.apply``) on a real database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hub.automation import outbox
from hub.core import ingest, merge
from hub.core.errors import NotFound
from hub.core.records import CustomerRecord
from hub.extensions import db
from hub.models import (
    Customer,
    CustomerTag,
    CustomerTombstone,
    Event,
    Group,
    GroupMember,
    Identity,
    MergeLedger,
    Order,
    OrderLine,
    OutboxDelivery,
    Tag,
)
from hub.services import rules as rule_service
from hub.services import tokens
from tests.support.orders import order
from tests.support.ui import browser, csrf_token, login, make_user

API = "/api/v1"
ANN = "ann@shop.example"


def bearer(workspace_id: int, role: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace_id, role, role=role)[1]}"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def customer_of(workspace_id: int, ext: str) -> int | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Order.customer_id).where(
            Order.workspace_id == workspace_id, Order.external_id == ext
        )
    )


def buyer(ext: str, *, version: int = 1, **kw):
    """An order of the buyer yz-ann (mobile 13912340000 as consignee), email in identities."""
    ids = kw.pop("identities", [("yz_open_id", "yz-ann"), ("email", "ann@shop.example")])
    return order(ext, identities=ids, version=version, source=kw.pop("source", "youzan"), **kw)


@pytest.fixture
def ann(workspace) -> int:
    """A customer with two orders, a tag and a group."""
    ingest.apply(db.session, workspace.id, [buyer("E1"), buyer("E2")])
    cid = customer_of(workspace.id, "E1")
    tag, group = (
        Tag(workspace_id=workspace.id, name="VIP"),
        Group(workspace_id=workspace.id, name="G"),
    )
    db.session.add_all([tag, group])
    db.session.flush()
    db.session.add_all([CustomerTag(customer_id=cid, tag_id=tag.id),
                        GroupMember(group_id=group.id, customer_id=cid)])  # fmt: skip
    db.session.commit()
    return cid


def test_h3_api_delete_removes_the_customer_and_keeps_its_orders_anonymous(client, workspace, ann):
    paid_before = db.session.scalar(select(func.sum(Order.amount_paid)))
    resp = client.delete(f"{API}/customers/{ann}", headers=bearer(workspace.id))
    assert resp.status_code == 200, resp.text
    assert resp.json["deleted"] == ann and resp.json["removed"]["orders_detached"] == 2
    db.session.expire_all()
    assert db.session.get(Customer, ann) is None
    for model in (Identity, CustomerTag, GroupMember):
        assert count(model, model.customer_id == ann) == 0
    # Orders and their events stay as anonymous facts: amounts, lines, statuses.
    assert count(Order) == 2 and count(Order, Order.customer_id.is_not(None)) == 0
    assert db.session.scalar(select(func.sum(Order.amount_paid))) == paid_before
    assert count(OrderLine) == 4
    assert count(Event, Event.type == "purchase") == 2
    assert count(Event, Event.customer_id.is_not(None)) == 0
    assert count(CustomerTombstone, CustomerTombstone.workspace_id == workspace.id) >= 3
    # The API's reads still answer.
    assert client.get(f"{API}/customers/{ann}", headers=bearer(workspace.id)).status_code == 404
    orders = client.get(f"{API}/orders", headers=bearer(workspace.id)).json
    assert orders["total"] == 2


def test_h3_delete_erases_the_customer_from_the_outbound_webhooks(app, client, workspace):
    """The rules' webhooks about the customer, pending or logged, keep anonymous facts only."""
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True)
    url = "http://127.0.0.1:9/hook"
    rule_service.create(workspace.id, {
        "name": "every purchase", "trigger": {"type": "purchase"},
        "actions": [{"type": "webhook", "url": url, "secret": "s" * 16}],
    })  # fmt: skip
    ingest.apply(db.session, workspace.id, [buyer("E1", name="Ann Lee")])
    cid = customer_of(workspace.id, "E1")
    # another payload that carries her e-mail in a text, and one about someone else
    for text in (f"write to {ANN.upper()}", "zed@shop.example"):
        payload = {"customer": {"id": cid + 1, "name": "Zed"}, "note": text}
        outbox.enqueue(db.session, workspace.id, url=url, secret="s" * 16, event_type="note",
                       payload=payload)  # fmt: skip
    db.session.commit()
    assert "Ann Lee" in str(db.session.scalars(select(OutboxDelivery.body)).all())
    resp = client.delete(f"{API}/customers/{cid}", headers=bearer(workspace.id))
    assert resp.status_code == 200 and resp.json["removed"]["outbox_deliveries"] == 2
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxDelivery.body).order_by(OutboxDelivery.id)).all()
    hook, note, other = (json.loads(b) for b in rows)
    assert hook["customer"] == {"id": cid, "stage": None, "score": 0, "tags": []}
    assert hook["event"]["amount"] == "100.00" and hook["event"]["type"] == "purchase"
    assert note == {"customer": {"id": cid + 1, "name": "Zed"}, "note": None}
    assert other["note"] == "zed@shop.example"


def test_h3_api_delete_is_admin_only_and_scoped_to_the_workspace(
    client, workspace, other_workspace, ann
):
    for role in ("read-only", "analyst"):
        resp = client.delete(f"{API}/customers/{ann}", headers=bearer(workspace.id, role))
        assert resp.status_code == 403, role
    resp = client.delete(f"{API}/customers/{ann}", headers=bearer(other_workspace.id))
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    db.session.expire_all()
    assert db.session.get(Customer, ann) is not None


def test_h3_a_later_record_from_any_source_never_brings_the_customer_back(client, workspace, ann):
    client.delete(f"{API}/customers/{ann}", headers=bearer(workspace.id))
    result = ingest.apply(
        db.session,
        workspace.id,
        [
            buyer("E1", version=2, status="shipped"),  # a later snapshot of an old order
            buyer("E3"),  # a new order of the same buyer from the same store
            # another source (a spreadsheet, another shop) knowing only the e-mail or mobile
            CustomerRecord(identities=[("email", "ANN@shop.example")], name="Ann"),
            CustomerRecord(identities=[("mobile", "13912340000")], name="Ann"),
            buyer(
                "T1",
                source="tmall",
                identities=[("tmall_buyer", "x"), ("email", "ann@shop.example")],
            ),
        ],
    )
    assert not result.failures
    assert result.counts["customers"]["deleted_in_hub"] == 5
    db.session.expire_all()
    assert count(Customer) == 0 and count(Identity) == 0
    assert [customer_of(workspace.id, e) for e in ("E1", "E3", "T1")] == [None, None, None]
    assert db.session.scalar(select(Order.status).where(Order.external_id == "E1")) == "shipped"
    assert count(Order) == 4


def test_h3_a_deleted_customers_contact_mobile_is_not_given_to_another_buyer(workspace, ann):
    from hub.services import customers as service

    service.delete_customer(workspace.id, ann)
    ingest.apply(db.session, workspace.id, [buyer("B1", identities=[("yz_open_id", "yz-bob")])])
    bob = customer_of(workspace.id, "B1")
    assert bob is not None  # a new buyer is taken; the deleted one's mobile is not attached
    held = {(t, v) for t, v in db.session.execute(select(Identity.type, Identity.value))}
    assert held == {("yz_open_id", "yz-bob")}


def test_h3_an_empty_tombstone_table_changes_nothing(workspace):
    """No deletion in the workspace: ingest resolves as before (one probe, no hashing)."""
    ingest.apply(db.session, workspace.id, [buyer("E1")])
    assert customer_of(workspace.id, "E1") is not None
    assert count(CustomerTombstone) == 0


def test_h3_merge_undo_never_resurrects_a_deleted_customer(client, workspace, ann):
    ingest.apply(db.session, workspace.id, [buyer("B1", identities=[("yz_open_id", "yz-bob")])])
    bob = customer_of(workspace.id, "B1")
    entry = merge.merge(db.session, workspace.id, ann, bob, reason="same person")
    ledger_id = entry.id
    # The merged-away customer cannot be deleted alone (its data lives in the kept one).
    resp = client.delete(f"{API}/customers/{bob}", headers=bearer(workspace.id))
    assert resp.status_code == 400 and f"#{ann}" in resp.json["error"]["message"]
    assert client.delete(f"{API}/customers/{ann}", headers=bearer(workspace.id)).status_code == 200
    db.session.expire_all()
    assert count(Customer) == 0 and count(MergeLedger) == 0
    with pytest.raises(NotFound):
        merge.undo_merge(db.session, workspace.id, ledger_id)
    db.session.rollback()
    ingest.apply(db.session, workspace.id, [buyer("B2", identities=[("yz_open_id", "yz-bob")])])
    assert count(Customer) == 0 and customer_of(workspace.id, "B2") is None


def test_h3_ui_delete_button_for_admins_with_confirmation(app, workspace, ann):
    make_user(workspace, "admin@x.test")
    make_user(workspace, "analyst@x.test", role="analyst")
    viewer = browser(app)
    login(viewer, "analyst@x.test")
    page = viewer.get(f"/customers/{ann}").get_data(as_text=True)
    assert 'data-test="delete-customer"' not in page
    assert viewer.post(f"/customers/{ann}/delete").status_code == 403
    admin = browser(app)
    login(admin, "admin@x.test")
    page = admin.get(f"/customers/{ann}").get_data(as_text=True)
    assert 'data-test="delete-customer"' in page and "data-confirm=" in page
    resp = admin.post(f"/customers/{ann}/delete", data={"csrf_token": csrf_token(page)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/customers")
    db.session.expire_all()
    assert db.session.get(Customer, ann) is None
    assert "deleted" in admin.get("/customers").get_data(as_text=True)
    assert admin.get("/dashboard").status_code == 200  # the analyses still run
    assert admin.get(f"/customers/{ann}").status_code == 404


# --- H4 ------------------------------------------------------------------------------------


def shopify_person(detail: str | None, source: str = "INTEGRATION_SYNC") -> CustomerRecord:
    return CustomerRecord(
        identities=[("shopify_customer_id", "9007199254740993"), ("email", "cy@shop.example")],
        name="Cy",
        original_source=source,
        original_source_detail=detail,
    )


def test_h4_original_source_detail_first_value_is_kept(client, workspace):
    ingest.apply(db.session, workspace.id, [shopify_person("integrations-sync")])
    ingest.apply(db.session, workspace.id, [shopify_person("web", source="web")])
    db.session.expire_all()
    cy = db.session.scalar(select(Customer))
    assert (cy.original_source, cy.original_source_detail) == (
        "INTEGRATION_SYNC",
        "integrations-sync",
    )
    body = client.get(f"{API}/customers/{cy.id}", headers=bearer(workspace.id)).json
    assert body["original_source"] == "INTEGRATION_SYNC"
    assert body["original_source_detail"] == "integrations-sync"


def test_h4_a_customer_without_a_detail_takes_the_first_one_given(workspace):
    ingest.apply(db.session, workspace.id, [shopify_person(None)])
    ingest.apply(db.session, workspace.id, [shopify_person("integrations-sync")])
    ingest.apply(db.session, workspace.id, [shopify_person("web")])
    db.session.expire_all()
    assert db.session.scalar(select(Customer.original_source_detail)) == "integrations-sync"


def test_h4_customer_page_shows_the_source_in_plain_words(app, workspace):
    ingest.apply(db.session, workspace.id, [shopify_person("integrations-sync")])
    cid = db.session.scalar(select(Customer.id))
    make_user(workspace, "admin@x.test")
    admin = browser(app)
    login(admin, "admin@x.test")
    page = admin.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'data-test="original-source">Integration sync<' in page
    detail = 'data-test="original-source-detail">Created by a store'
    assert detail + "&#39;s first sync<" in page or detail + "'s first sync<" in page
