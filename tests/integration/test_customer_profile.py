"""Issue 22 points 2 (a merged customer's values shown on the survivor) and 4 (first order,
in the hub since, order count and total spent) on the customer page, the list and the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.core import ingest
from hub.core.merge import merge, undo_merge
from hub.core.records import CustomerRecord
from hub.extensions import db
from hub.models import Customer, Identity
from hub.services import tokens
from tests.support.orders import T0, order
from tests.support.ui import login, make_user

API = "/api/v1"


@pytest.fixture
def admin(client, workspace):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    return client


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}


def customer_of(value: str) -> int:
    return db.session.scalar(select(Identity.customer_id).where(Identity.value == value))


@pytest.fixture
def buyer(workspace) -> int:
    """Three orders of one buyer: 2 purchased (120.50 + 99.95, the first on T0 + 1 day),
    one closed; another buyer's order."""
    ids = [("yz_open_id", "yz-li")]
    ingest.apply(
        db.session,
        workspace.id,
        [
            order("L2", identities=ids, paid="99.95", at=T0 + timedelta(days=5)),
            order("L1", identities=ids, paid="120.50", at=T0 + timedelta(days=1), status="paid"),
            order("OTHER", identities=[("yz_open_id", "yz-x")], paid="7.00"),
        ],
    )
    ingest.apply(
        db.session,
        workspace.id,
        [order("L2", identities=ids, paid="99.95", status="closed", version=2,
               at=T0 + timedelta(days=5))],
    )  # fmt: skip
    ingest.apply(
        db.session,
        workspace.id,
        [order("L3", identities=ids, paid="10.00", at=T0 + timedelta(days=9))],
    )
    return customer_of("yz-li")


def test_api_customer_has_first_order_count_and_total_spent(client, auth, buyer, workspace):
    body = client.get(f"{API}/customers/{buyer}", headers=auth).get_json()
    assert body["first_order_at"] == (T0 + timedelta(days=1)).isoformat()
    assert (body["order_count"], body["total_spent"]) == (2, "130.50")
    created = db.session.get(Customer, buyer).created_at
    assert body["created_at"] == created.isoformat()  # the hub's record date, kept
    items = client.get(f"{API}/customers", headers=auth).get_json()["items"]
    row = next(i for i in items if i["id"] == buyer)
    assert (row["order_count"], row["total_spent"]) == (2, "130.50")
    assert row["first_order_at"] == body["first_order_at"]
    other = next(i for i in items if i["id"] != buyer)
    assert (other["order_count"], other["total_spent"]) == (1, "7.00")


def test_customer_page_and_list_show_first_order_hub_date_orders_and_total(admin, buyer):
    page = admin.get(f"/customers/{buyer}").get_data(as_text=True)
    assert re.search(r'data-test="first-order"><time[^>]*>2026-01-02 ', page)
    assert 'data-test="in-hub-since"><time' in page
    assert re.search(r'data-test="order-count">2<', page)
    assert re.search(r'data-test="total-spent">130.50 ', page)
    assert "Customer since" not in page
    listing = admin.get("/customers").get_data(as_text=True)
    assert "First order" in listing and "Total spent" in listing
    assert re.search(r'data-test="total-spent">130.50 ', listing)
    assert re.search(r'data-test="total-spent">7.00 ', listing)


def test_a_customer_without_orders_shows_none(admin, client, auth, workspace):
    ingest.apply(db.session, workspace.id, [CustomerRecord(identities=[("email", "a@b.cn")])])
    cid = customer_of("a@b.cn")
    body = client.get(f"{API}/customers/{cid}", headers=auth).get_json()
    assert (body["first_order_at"], body["order_count"], body["total_spent"]) == (None, 0, "0.00")
    assert admin.get(f"/customers/{cid}").status_code == 200


# --- after a merge, the merged customer's values show on the survivor -------------------------


@pytest.fixture
def pair(workspace) -> tuple[int, int]:
    """A shop buyer (name, city) and an imported contact (email, city, vip level)."""
    keep = CustomerRecord(
        identities=[("yz_open_id", "yz-li")], name="Li Lei", properties={"city": "Hangzhou"}
    )
    gone = CustomerRecord(
        identities=[("email", "li@shop.cn")],
        email="li@shop.cn",
        name="L. Lei",
        properties={"city": "Shanghai", "vip_level": "gold"},
    )
    ingest.apply(db.session, workspace.id, [keep, gone])
    return customer_of("yz-li"), customer_of("li@shop.cn")


def test_x4_merged_values_fill_the_survivors_gaps_and_undo_takes_them_back(
    client, auth, admin, workspace, pair
):
    keep, gone = pair
    entry = merge(db.session, workspace.id, keep, gone, reason="same person")
    body = client.get(f"{API}/customers/{keep}", headers=auth).get_json()
    assert body["email"] == "li@shop.cn"  # the survivor had none
    assert body["name"] == "Li Lei"  # the survivor's own value wins
    assert body["properties"] == {"city": "Hangzhou", "vip_level": "gold"}
    assert body["merged_from"] == [gone]
    page = admin.get(f"/customers/{keep}").get_data(as_text=True)
    assert re.search(r'data-test="email">li@shop.cn <a[^>]*data-test="merged-from"', page)
    assert 'data-test="property-vip_level">gold' in page
    assert 'data-test="property-city">Hangzhou<' in page

    undo_merge(db.session, workspace.id, entry.id)
    body = client.get(f"{API}/customers/{keep}", headers=auth).get_json()
    assert (body["email"], body["properties"], body["merged_from"]) == (
        None,
        {"city": "Hangzhou"},
        [],
    )
    assert db.session.get(Customer, gone).email == "li@shop.cn"


# --- 3. event settings applied to existing customers, from the settings page --------------------


def test_y10_event_settings_page_applies_them_to_existing_customers(admin, workspace, buyer):
    """The buyer's orders were recorded before any setting: stage "—", score 0. Saving the
    settings changes nothing for them; the page's button (with the count, confirmed) does."""
    admin.post(
        "/settings/events",
        data={"stage_purchase": "customer", "score_purchase": "10", "score_first_purchase": "5"},
    )
    assert (
        db.session.get(Customer, buyer).stage,
        db.session.get(Customer, buyer).activity_score,
    ) == (
        None,
        0,
    )
    page = admin.get("/settings/events").get_data(as_text=True)
    assert "Apply to 2 existing customers" in page
    assert re.search(r'data-confirm="Recompute the stage and activity score of 2 customers', page)
    done = admin.post("/settings/events/apply", follow_redirects=True).get_data(as_text=True)
    assert "recomputed from the events of 2 customers" in done
    c = db.session.get(Customer, buyer)
    db.session.refresh(c)
    # three purchases (L2 was purchased, then closed: its purchase stays recorded) + the first
    assert (c.stage, c.activity_score) == ("customer", 3 * 10 + 5)


def test_y10_only_an_admin_applies_event_settings(client, workspace, buyer):
    make_user(workspace, "analyst@acme.test", role="analyst")
    login(client, "analyst@acme.test")
    assert client.post("/settings/events/apply").status_code == 403
    assert "apply-existing" not in client.get("/settings/events").get_data(as_text=True)
