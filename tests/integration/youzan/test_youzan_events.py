"""Youzan orders in the core: field mapping (Y6), states and events (Y7), buyers (Y8),
customer detail (Y9) and event settings (Y10), against the sandbox over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from connectors.youzan.sandbox_data import Buyer
from hub.core import ingest
from hub.core.records import CustomerRecord
from hub.extensions import db
from hub.models import Customer, Event, EventSetting, Order, OrderLine
from hub.services import tokens
from tests.integration.youzan.conftest import customer_of, hub_orders, sync


@pytest.fixture
def sandbox_orders() -> int:
    return 40


def new_order(sandbox, *steps: str) -> str:
    [tid] = sandbox.control("orders", count=1, paid=True)["tids"]
    for step in steps:
        sandbox.control(f"orders/{tid}/{step}")
    return tid


def events_of(workspace_id: int, tid: str) -> list[tuple[str, Decimal | None]]:
    """The Y7 events of an order (the buyer's first purchase, also on it, left out)."""
    db.session.expire_all()
    order = db.session.scalar(
        select(Order).where(Order.workspace_id == workspace_id, Order.external_id == tid)
    )
    rows = db.session.execute(
        select(Event.type, Event.amount)
        .where(Event.order_id == order.id, Event.type != "first_purchase")
        .order_by(Event.id)
    )
    return [tuple(r) for r in rows]


def test_y6_order_and_lines_are_stored_as_the_seed_maps_them(workspace, store, sandbox):
    tid = new_order(sandbox)
    sync(store)
    trade = sandbox.shop.trades[tid]
    order = db.session.scalar(select(Order).where(Order.external_id == tid))
    assert (order.order_no, order.sales_channel, order.store_name) == (
        tid,
        "youzan",  # the source key (22.5): shown as "Youzan"
        "Sandbox Tea House",
    )
    assert (order.amount_total, order.amount_paid) == (trade.total_fee, trade.payment)
    assert order.payment_no == trade.transaction and order.payment_method == trade.pay_type_str
    assert int(order.ordered_at.timestamp()) == trade.created
    b = trade.buyer
    assert (order.consignee_name, order.consignee_phone, order.consignee_address) == (
        b.name,
        b.phone,
        b.address,
    )
    assert (order.consignee_province, order.consignee_city, order.consignee_district) == b.place
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    got = sorted(
        (ln.external_id, ln.name, ln.qty, ln.unit_price, ln.total, ln.paid) for ln in lines
    )
    want = sorted((x.oid, x.title, x.num, x.price, x.total_fee, x.payment) for x in trade.lines)
    assert got == want


def test_y7_first_seen_success_is_stored_with_a_purchase(workspace, store, sandbox):
    tid = new_order(sandbox, "ship", "succeed")
    sync(store)
    assert hub_orders(workspace.id)[tid]["status"] == "completed"
    assert events_of(workspace.id, tid) == [("purchase", sandbox.shop.trades[tid].payment)]


@pytest.mark.parametrize(("steps", "status"), [((), "paid"), (("ship",), "shipped")])
def test_y7_first_seen_pending_is_stored_with_a_purchase(workspace, store, sandbox, steps, status):
    tid = new_order(sandbox, *steps)
    sync(store)
    assert hub_orders(workspace.id)[tid]["status"] == status
    assert [e[0] for e in events_of(workspace.id, tid)] == ["purchase"]


def test_y7_success_with_refund_records_a_return_and_reduces_paid(workspace, store, sandbox):
    tid = new_order(sandbox, "ship", "succeed")
    sync(store)
    sandbox.control(f"orders/{tid}/refund", amount="10.00")
    sync(store)
    payment = sandbox.shop.trades[tid].payment
    order = hub_orders(workspace.id)[tid]
    assert order["amount_paid"] == f"{payment - Decimal('10.00'):.2f}"
    assert order["refunded"] == "10.00"
    assert events_of(workspace.id, tid) == [("purchase", payment), ("return", Decimal("10.00"))]


def test_y7_closed_first_seen_is_not_stored(workspace, store, sandbox):
    tid = new_order(sandbox, "close")
    unpaid = sandbox.control("orders", count=1, paid=False)["tids"][0]
    sandbox.control(f"orders/{unpaid}/close")
    sync(store)
    got = hub_orders(workspace.id)
    assert tid not in got and unpaid not in got
    assert db.session.scalar(select(Event.id).where(Event.type == "cancel")) is None


def test_y7_closed_after_sync_records_cancel(workspace, store, sandbox):
    tid = new_order(sandbox)
    sync(store)
    sandbox.control(f"orders/{tid}/close")
    sync(store)
    payment = sandbox.shop.trades[tid].payment
    order = hub_orders(workspace.id)[tid]
    assert (order["status"], order["amount_paid"]) == ("closed", "0.00")
    assert events_of(workspace.id, tid) == [("purchase", payment), ("cancel", payment)]


def _buyer(sandbox, tid: str, **ids: str) -> Buyer:
    buyer = Buyer(name="Qian Duo", phone="13900001111", place=("Zhejiang", "Ningbo", "Yinzhou"),
                  address="1 Harbour Road", **{"yz_open_id": "yzo-new", **ids})  # fmt: skip
    with sandbox.shop.lock:
        sandbox.shop.trades[tid].buyer = buyer
    return buyer


def _existing(workspace_id: int, kind: str, value: str, name: str) -> int:
    rec = CustomerRecord(identities=[(kind, value)], name=name)
    ingest.apply(db.session, workspace_id, [rec])
    return db.session.scalar(select(Customer.id).where(Customer.name == name))


def test_y8_openid_beats_unionid_when_yz_open_id_is_unknown(workspace, store, sandbox):
    tid = new_order(sandbox)
    _buyer(sandbox, tid, openid="oWx-77", unionid="oUn-77")
    by_union = _existing(workspace.id, "wx_unionid", "oUn-77", "By Union")
    by_open = _existing(workspace.id, "wx_openid", "oWx-77", "By Openid")
    sync(store)
    assert customer_of(workspace.id, tid).id == by_open != by_union


def test_y8_yz_open_id_comes_first(workspace, store, sandbox):
    tid = new_order(sandbox)
    _buyer(sandbox, tid, yz_open_id="yzo-known", openid="oWx-88")
    by_open = _existing(workspace.id, "wx_openid", "oWx-88", "By Openid")
    by_yz = _existing(workspace.id, "yz_open_id", "yzo-known", "By Youzan")
    sync(store)
    assert customer_of(workspace.id, tid).id == by_yz != by_open


def test_y8_unionid_alone_still_matches(workspace, store, sandbox):
    tid = new_order(sandbox)
    _buyer(sandbox, tid, unionid="oUn-99")
    by_union = _existing(workspace.id, "wx_unionid", "oUn-99", "By Union")
    sync(store)
    assert customer_of(workspace.id, tid).id == by_union


def test_y8_no_match_creates_a_customer_from_the_consignee(workspace, store, sandbox):
    tid = new_order(sandbox)
    _buyer(sandbox, tid, yz_open_id="yzo-fresh")
    sync(store)
    customer = customer_of(workspace.id, tid)
    assert (customer.name, customer.mobile) == ("Qian Duo", "13900001111")
    props = customer.properties
    assert (props["country"], props["province"], props["city"], props["district"]) == (
        "China",
        "Zhejiang",
        "Ningbo",
        "Yinzhou",
    )
    assert props["address"] == "1 Harbour Road"


def test_y9_customer_detail_shows_timeline_and_orders(client, workspace, store, sandbox):
    tid = new_order(sandbox, "ship", "succeed")
    sync(store)
    sandbox.control(f"orders/{tid}/refund", amount="5.00")
    sync(store)
    customer = customer_of(workspace.id, tid)
    headers = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 't')[1]}"}
    timeline = client.get(f"/api/v1/customers/{customer.id}/timeline", headers=headers)
    assert timeline.status_code == 200
    kinds = [e["type"] for e in timeline.get_json()["items"]]
    assert "purchase" in kinds and "return" in kinds
    orders = client.get(f"/api/v1/customers/{customer.id}/orders", headers=headers).get_json()
    assert tid in [o["order_no"] for o in orders["items"]]


def test_y10_event_settings_advance_stage_and_change_score(workspace, store, sandbox):
    db.session.add_all([
        EventSetting(workspace_id=workspace.id, event_type="purchase",
                     advance_to_stage="customer", score_delta=10),
        EventSetting(workspace_id=workspace.id, event_type="return", score_delta=-3),
        EventSetting(workspace_id=workspace.id, event_type="cancel", score_delta=-5),
    ])  # fmt: skip
    db.session.commit()
    tid = new_order(sandbox, "ship", "succeed")
    _buyer(sandbox, tid, yz_open_id="yzo-y10")
    other = new_order(sandbox)
    _buyer(sandbox, other, yz_open_id="yzo-y10")
    sync(store)
    customer = customer_of(workspace.id, tid)
    assert (customer.stage, customer.activity_score) == ("customer", 20)
    sandbox.control(f"orders/{tid}/refund", amount="1.00")
    sandbox.control(f"orders/{other}/close")
    sync(store)
    customer = customer_of(workspace.id, tid)
    assert (customer.stage, customer.activity_score) == ("customer", 20 - 3 - 5)
