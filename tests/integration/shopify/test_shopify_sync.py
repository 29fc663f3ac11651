"""The Shopify connector end to end against the sandbox over real HTTP: sync, the H rules a
poll proves (H1, H2, H4, H5, H7, H8, H9, H10), Link paging, the leaky bucket's 429s survived,
ids above 2^53. Each runs on SQLite and on PostgreSQL (the suite's second pass)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.mapping import CUSTOMER_ID, ORDER_PROPERTIES
from connectors.shopify.sandbox_server import demo_bind_config
from hub.connectors import ConnectorContext, SyncWindow
from hub.extensions import db
from hub.imports import service as imports
from hub.models import Deal, Event, Identity, Order, Product
from hub.sync.egress import EgressPolicy
from hub.sync.http import HttpClient
from tests.integration.shopify.conftest import (
    SHOPIFY,
    customer_by,
    order,
    order_lines,
    product,
    sync,
)
from tests.support.spreadsheets import write_csv

H2_KEYS = {
    "accepts_marketing", "created_at", "first_name", "last_name", "email", "phone", "note",
    "orders_count", "tags", "tax_exempt", "verified_email", "street", "city", "country",
    "province", "zip",
}  # fmt: skip


def _orders(workspace_id: int) -> dict[str, Order]:
    db.session.expire_all()
    rows = db.session.scalars(select(Order).where(Order.workspace_id == workspace_id))
    return {o.external_id: o for o in rows}


def test_h5_first_sync_reads_orders_customers_products_matching_the_truth(
    workspace, store, sandbox
):
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    truth = sandbox.truth()
    hub = _orders(workspace.id)
    assert len(hub) > 50 and set(hub) <= set(truth["orders"])
    for oid, o in hub.items():
        t = truth["orders"][oid]
        assert o.amount_total == Decimal(t["total_price"]), oid
        assert o.order_no == t["name"]
        assert o.currency == "USD"
        want = {lid: q for lid, q in t["line_items"].items() if q > 0}
        assert order_lines(o.id) == want, oid
        if t["cancelled"] or t["financial_status"] == "voided":
            assert o.status == "closed", oid
        elif t["financial_status"] == "refunded":  # a purchase, returned in whole
            assert o.status in ("paid", "shipped") and o.amount_paid == 0, oid
    assert db.session.scalar(select(func.count(Product.id))) == len(truth["products"])
    assert db.session.scalar(select(func.count(Product.id)).where(Product.price.is_(None))) == 0
    with_email = {cid for cid, c in truth["customers"].items() if c["email"]}
    known = set(db.session.scalars(select(Identity.value).where(Identity.type == CUSTOMER_ID)))
    assert known == with_email  # every customer with an e-mail, whatever its age; no others


def test_ids_above_2_53_stay_exact_strings_end_to_end(workspace, store, sandbox):
    assert store.external_id == "9007199254740993"  # 2^53 + 1: a float would say ...992
    assert sync(store).status == "succeeded"
    truth = sandbox.truth()
    hub = _orders(workspace.id)
    assert all(int(oid) > 2**53 for oid in hub)
    assert set(hub) <= set(truth["orders"])
    pids = set(db.session.scalars(select(Product.external_id)))
    assert pids == set(truth["products"])


def test_h8_order_properties_carry_shopify_rest_names(workspace, store, sandbox):
    assert sync(store).status == "succeeded"
    truth = sandbox.truth()
    for oid, o in _orders(workspace.id).items():
        keys = set(o.properties)
        # checkout_token: the checkout the order completed (its deal carries the H8 keys only)
        assert keys <= set(ORDER_PROPERTIES) | {"customer_id", "checkout_token"}, keys
        assert {"name", "financial_status", "total_price", "token", "customer_id"} <= keys
        assert o.properties["customer_id"] == truth["orders"][oid]["customer_id"]
        assert isinstance(o.properties["total_price"], str)  # money as Shopify sends it


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {
        **app_config,
        "CONNECTORS": [SHOPIFY, "connectors.customers.connector:CustomersConnector"],
    }


def test_h1_same_email_from_a_spreadsheet_is_updated_not_duplicated(
    workspace, store, sandbox, tmp_path
):
    path = write_csv(
        tmp_path / "people.csv", [["Name", "Email"], ["Ann Lee", "Ann.Lee@Acme-Mail.net"]]
    )
    imported = imports.start(workspace.id, "customers", [(path.name, path)], enqueue=False)
    assert imported.status == "succeeded", imported.error_message
    before = customer_by(workspace.id, "email", "ann.lee@acme-mail.net")
    assert before is not None
    cid = sandbox.control("customers", email="ann.lee@acme-mail.net", first_name="Ann")["id"]
    [oid] = sandbox.control("orders", customer_id=cid)["ids"]
    assert sync(store).status == "succeeded"
    after = customer_by(workspace.id, "email", "ann.lee@acme-mail.net")
    assert after is not None and after.id == before.id
    assert customer_by(workspace.id, CUSTOMER_ID, cid).id == before.id
    n = db.session.scalar(
        select(func.count(Identity.id)).where(Identity.value == "ann.lee@acme-mail.net")
    )
    assert n == 1
    assert order(workspace.id, oid).customer_id == before.id
    # the Shopify customer changes its e-mail: still the same hub customer (by its id)
    sandbox.control(f"customers/{cid}/update", email="ann@new-mail.net")
    assert sync(store).status == "succeeded"
    assert customer_by(workspace.id, "email", "ann@new-mail.net").id == before.id


def test_h1_customer_without_email_is_not_created_and_its_orders_have_no_contact(
    workspace, store, sandbox
):
    cid = sandbox.control("customers", email=None, phone="+15550001111")["id"]
    [oid] = sandbox.control("orders", customer_id=cid)["ids"]
    assert sync(store).status == "succeeded"
    assert customer_by(workspace.id, CUSTOMER_ID, cid) is None
    got = order(workspace.id, oid)
    assert got is not None and got.customer_id is None


def test_h2_customer_properties_and_phone_from_the_record_not_the_address(
    workspace, store, sandbox
):
    cid = sandbox.control(
        "customers", email="h2.buyer@acme-mail.net", phone="+15557654321",
        address_phone="+16669990000", first_name="Hana", last_name="Ito", note="VIP",
    )["id"]  # fmt: skip
    assert sync(store).status == "succeeded"
    c = customer_by(workspace.id, CUSTOMER_ID, cid)
    assert c is not None and c.name == "Hana Ito" and c.email == "h2.buyer@acme-mail.net"
    props = c.properties
    assert set(props) <= H2_KEYS and {"email", "phone", "first_name", "city", "zip"} <= set(props)
    assert props["phone"] == "+15557654321" and c.mobile.endswith("15557654321")
    assert "+16669990000" not in str(props)
    raw = sandbox.api(f"customers/{cid}.json")["customer"]
    assert props["accepts_marketing"] == (raw["email_marketing_consent"]["state"] == "subscribed")
    assert props["city"] == raw["default_address"]["city"]
    assert props["note"] == "VIP" and props["created_at"] == raw["created_at"]


def test_h4_first_sync_marks_integration_sync_later_ones_the_shop(workspace, store, sandbox):
    early = sandbox.control("customers", email="first.import@acme-mail.net")["id"]
    assert sync(store).status == "succeeded"
    first = customer_by(workspace.id, CUSTOMER_ID, early)
    assert first.original_source == "INTEGRATION_SYNC"
    late = sandbox.control("customers", email="later.buyer@acme-mail.net")["id"]
    sandbox.control(f"customers/{early}/update", note="changed")
    run = sync(store)
    assert run.status == "succeeded" and not run.full
    assert customer_by(workspace.id, CUSTOMER_ID, late).original_source == "shopify"
    assert customer_by(workspace.id, CUSTOMER_ID, early).original_source == "INTEGRATION_SYNC"


def test_h7_order_and_product_deleted_on_the_shop_are_deleted_by_polling(workspace, store, sandbox):
    assert sync(store).status == "succeeded"
    victim = next(iter(_orders(workspace.id)))
    assert sandbox.control(f"orders/{victim}/delete")["ok"]
    pid = next(iter(sandbox.truth()["products"]))
    assert product(workspace.id, pid) is not None
    assert sandbox.control(f"products/{pid}/delete")["ok"]
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    assert order(workspace.id, victim) is None
    assert product(workspace.id, pid) is None
    assert run.counts["orders"]["deleted"] == 1 and run.counts["products"]["deleted"] == 1


def test_h3_customer_deleted_on_the_shop_stays_in_the_hub(workspace, store, sandbox):
    cid = sandbox.control("customers", email="stays@acme-mail.net")["id"]
    assert sync(store).status == "succeeded"
    assert sandbox.control(f"customers/{cid}/delete")["ok"]
    assert sync(store).status == "succeeded"
    assert customer_by(workspace.id, CUSTOMER_ID, cid) is not None


def test_h7_line_removed_by_an_order_edit_is_removed(workspace, store, sandbox):
    [oid] = sandbox.control("orders", count=1)["ids"]
    while len(sandbox.truth()["orders"][oid]["line_items"]) < 2:
        [oid] = sandbox.control("orders", count=1)["ids"]
    assert sync(store).status == "succeeded"
    assert len(order_lines(order(workspace.id, oid).id)) >= 2
    assert sandbox.control(f"orders/{oid}/edit")["ok"]
    assert sync(store).status == "succeeded"
    want = {k: q for k, q in sandbox.truth()["orders"][oid]["line_items"].items() if q > 0}
    assert order_lines(order(workspace.id, oid).id) == want
    assert len(want) < len(sandbox.truth()["orders"][oid]["line_items"])


def test_h9_products_with_price_and_properties(workspace, store, sandbox):
    assert sync(store).status == "succeeded"
    raw = sandbox.api("products.json", limit=250)["products"]
    for p in raw:
        got = product(workspace.id, str(p["id"]))
        assert got is not None and got.name == p["title"]
        assert got.price == Decimal(p["variants"][0]["price"])
        props = got.properties
        assert set(props) == {"body_html", "created_at", "handle", "images", "product_type",
                              "published_at", "published_scope", "tags", "vendor"}  # fmt: skip
        assert props["images"] == [i["src"] for i in p["images"]]
        assert props["body_html"] == p["body_html"] and props["vendor"] == p["vendor"]


def test_h10_non_ascii_text_round_trips(workspace, store, sandbox):
    cid = sandbox.control(
        "customers", email="zoe.mueller@acme-mail.net", first_name="Zoë", last_name="Müller"
    )["id"]
    pid = next(p for p, t in sandbox.truth()["products"].items() if t == "登山背包 30L")
    sandbox.control(f"products/{pid}/update", body_html="<p>轻便耐用，Größe M — été</p>")
    assert sync(store).status == "succeeded"
    c = customer_by(workspace.id, CUSTOMER_ID, cid)
    assert c.name == "Zoë Müller" and c.properties["last_name"] == "Müller"
    p = product(workspace.id, pid)
    assert p.name == "登山背包 30L"
    assert p.properties["body_html"] == "<p>轻便耐用，Größe M — été</p>"
    assert p.properties["vendor"] == "山行"


@pytest.mark.parametrize("sandbox_orders", [700])
def test_link_paging_and_429s_survived(workspace, store, sandbox):
    sandbox.control("faults", storm_429=2)
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    assert run.counts["api"]["throttled"] == 2
    truth = sandbox.truth()
    hub = _orders(workspace.id)
    assert len(hub) > 250  # more than one page of 250
    assert set(hub) <= set(truth["orders"])
    assert run.api_calls >= 2 + 3  # shop pages plus the two refused calls


def test_h6_abandoned_checkouts_are_read_and_their_buyers_become_contacts(
    workspace, store, sandbox
):
    cid = sandbox.control("customers", email="cart.only@acme-mail.net")["id"]
    sandbox.control("checkouts", customer_id=cid)
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    assert customer_by(workspace.id, CUSTOMER_ID, cid) is not None  # no order: the cart's buyer
    assert "failed" not in run.counts.get("record", {})


def test_h6_an_abandoned_checkout_is_a_deal_and_its_recovery_moves_that_deal_to_the_order(
    workspace, store, sandbox
):
    cid = sandbox.control("customers", email="came.back@acme-mail.net")["id"]
    # left two hours ago: abandoned (a cart active within the hour is pending)
    checkout_id = sandbox.control("checkouts", customer_id=cid, hours_ago=2)["id"]
    assert sync(store).status == "succeeded"
    deal = _deal(workspace.id, "checkout", checkout_id)
    buyer = customer_by(workspace.id, CUSTOMER_ID, cid)
    assert (deal.stage, deal.order_id, deal.customer_id) == ("checkout_abandoned", None, buyer.id)
    assert deal.properties["abandoned_checkout_url"].startswith("https://")
    order_id = sandbox.control(f"checkouts/{checkout_id}/complete")["order_id"]
    assert sync(store).status == "succeeded"
    db.session.expire_all()
    recovered = db.session.get(Deal, deal.id)  # the same deal, handed on to the order
    placed = order(workspace.id, order_id)
    assert (recovered.kind, recovered.external_id, recovered.order_id) == (
        "order",
        order_id,
        placed.id,
    )
    assert recovered.stage == "checkout_completed"  # pending payment: forward from abandoned
    assert _deal(workspace.id, "checkout", checkout_id) is None
    assert db.session.scalar(
        select(func.count(Event.id)).where(
            Event.workspace_id == workspace.id, Event.type == "checkout_abandoned",
            Event.customer_id == buyer.id,
        )
    ) == 1  # fmt: skip


def _deal(workspace_id: int, kind: str, external_id: str) -> Deal | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Deal).where(
            Deal.workspace_id == workspace_id, Deal.kind == kind, Deal.external_id == external_id
        )
    )


def _connector(sandbox) -> ShopifyConnector:
    http = HttpClient(egress=EgressPolicy(allow_private=True))
    context = ConnectorContext(connection_id=None, credentials={}, http=http)
    return ShopifyConnector(demo_bind_config(sandbox.url), context)


@pytest.mark.parametrize("sandbox_orders", [700])
def test_orders_stream_resumes_after_the_last_committed_page(sandbox):
    stream = next(s for s in _connector(sandbox).streams() if s.name == "orders")
    now = datetime.now(UTC)
    window = SyncWindow(now - timedelta(days=365), now, True)
    pages = stream.read(window, {})
    first = next(pages)
    second = next(pages)
    assert first.state["page_info"] and not first.state["end"]
    seen = [r.external_id for r in first.records + second.records]
    resumed = list(stream.read(window, json.loads(json.dumps(first.state))))
    again = [r.external_id for p in resumed for r in p.records]
    assert again[: len(second.records)] == [r.external_id for r in second.records]
    assert not set(again) & {r.external_id for r in first.records}
    assert resumed[-1].state["end"] and resumed[-1].state["page_info"] is None
    assert len(set(seen) | set(again)) == first.total  # count.json gave the total
    assert list(stream.read(window, resumed[-1].state)) == []  # a finished window: nothing


def test_5xx_answers_are_retried_and_the_sync_succeeds(workspace, store, sandbox):
    sandbox.control("faults", errors_5xx=2, status_5xx=503)
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    assert sandbox.state.stats["errors_5xx"] == 2
