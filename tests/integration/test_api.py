"""JSON API /api/v1: Bearer auth, error shape, workspace scoping, S1 order filters, paging."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.core import ingest
from hub.extensions import db
from hub.models import Customer, CustomerTag, Group, GroupMember, Order, Tag
from hub.queries import products
from hub.services import tokens
from tests.support.orders import T0, order

API = "/api/v1"


@pytest.fixture
def token(workspace) -> str:
    return tokens.create_token(workspace.id, "tests")[1]


@pytest.fixture
def auth(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _record(ext, *, status, days, store, source, channel, buyer, name="Li Lei"):
    rec = order(
        ext,
        status=status,
        identities=[("yz_open_id", buyer)],
        source=source,
        at=T0 + timedelta(days=days),
        name=name,
    )
    rec.store_id, rec.sales_channel = store, channel
    return rec


@pytest.fixture
def shop(workspace, other_workspace) -> dict[str, int]:
    """Three orders of two buyers in the workspace, one order in the other workspace."""
    records = [
        _record(
            "A1",
            status="paid",
            days=0,
            store="store-1",
            source="fake",
            channel="Fake",
            buyer="buyer-a",
        ),
        _record(
            "A2",
            status="completed",
            days=10,
            store="store-2",
            source="youzan",
            channel="Youzan",
            buyer="buyer-b",
            name="Han Meimei",
        ),
        _record(
            "A3",
            status="shipped",
            days=20,
            store="store-1",
            source="fake",
            channel="Fake",
            buyer="buyer-a",
        ),
    ]
    ingest.apply(db.session, workspace.id, records)
    ingest.apply(
        db.session,
        other_workspace.id,
        [
            _record(
                "O1",
                status="paid",
                days=5,
                store="store-9",
                source="fake",
                channel="Fake",
                buyer="buyer-o",
                name="Other Buyer",
            ),
        ],
    )
    ids = {o.external_id: o.id for o in db.session.query(Order)}
    cust = {o.external_id: o.customer_id for o in db.session.query(Order)}
    return {**ids, "cust_a": cust["A1"], "cust_b": cust["A2"], "cust_o": cust["O1"]}


def get(client, auth, path, **params):
    return client.get(API + path, headers=auth, query_string=params)


def order_nos(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_json()
    return sorted(item["order_no"] for item in resp.get_json()["items"])


# ------------------------------------------------------------------ auth and errors


def test_api_requires_a_bearer_token(client, workspace, token):
    for headers in ({}, {"Authorization": "Bearer trb_nope"}, {"Authorization": f"Basic {token}"}):
        resp = client.get(API + "/customers", headers=headers)
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert resp.get_json()["error"]["code"] == "unauthorized"


def test_api_revoked_token_stops_working(client, workspace):
    tok, plaintext = tokens.create_token(workspace.id, "short-lived")
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get(API + "/customers", headers=headers).status_code == 200
    tokens.revoke(workspace.id, tok.id)
    assert client.get(API + "/customers", headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/nothing-here", 404, "not_found"),
        ("post", "/customers", 405, "method_not_allowed"),
        ("get", "/orders/987654", 404, "not_found"),
        ("get", "/orders?per_page=201", 400, "validation_failed"),
        ("get", "/orders?page=0", 400, "validation_failed"),
        ("get", "/orders?status=lost", 400, "validation_failed"),
        ("get", "/orders?from=2026-01-01T00:00:00", 400, "validation_failed"),
        ("post", "/connections", 400, "validation_failed"),
    ],
)
def test_api_errors_have_the_json_shape(client, auth, method, path, status, code):
    resp = getattr(client, method)(API + path, headers=auth)
    assert resp.status_code == status
    assert resp.is_json
    error = resp.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_api_validation_error_names_the_field(client, auth):
    error = client.get(API + "/orders?per_page=500", headers=auth).get_json()["error"]
    assert error["field"] == "per_page" and "200" in error["message"]
    error = client.get(API + "/orders?from=yesterday", headers=auth).get_json()["error"]
    assert error["field"] == "from"


def test_api_body_too_large_is_413_json(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    resp = client.post(API + "/connections", headers=auth, json={"pad": "x" * 2000})
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"] == "request_entity_too_large"


def test_api_unexpected_failure_is_500_json(client, auth, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(products, "search", broken)
    resp = client.get(API + "/products", headers=auth)
    assert resp.status_code == 500
    assert resp.get_json() == {"error": {"code": "internal_error", "message": "internal error"}}


# ------------------------------------------------------------------ scoping


def test_api_every_read_is_scoped_to_the_tokens_workspace(client, auth, shop):
    other_customer, other_order = shop["cust_o"], shop["O1"]
    for path in (
        f"/customers/{other_customer}",
        f"/customers/{other_customer}/timeline",
        f"/customers/{other_customer}/orders",
        f"/orders/{other_order}",
    ):
        resp = get(client, auth, path)
        assert resp.status_code == 404, path
        assert resp.get_json()["error"]["code"] == "not_found"
    assert "O1" not in order_nos(get(client, auth, "/orders"))
    names = [c["name"] for c in get(client, auth, "/customers").get_json()["items"]]
    assert "Other Buyer" not in names
    assert get(client, auth, "/customers", q="buyer-o").get_json()["total"] == 0


# ------------------------------------------------------------------ customers


def test_api_customer_search_by_name_mobile_and_identity(client, auth, shop):
    assert get(client, auth, "/customers").get_json()["total"] == 2
    by_name = get(client, auth, "/customers", q="meimei").get_json()["items"]
    assert [c["id"] for c in by_name] == [shop["cust_b"]]
    by_identity = get(client, auth, "/customers", q="buyer-a").get_json()["items"]
    assert [c["id"] for c in by_identity] == [shop["cust_a"]]
    assert get(client, auth, "/customers", q="1391234").get_json()["total"] == 2
    assert get(client, auth, "/customers", q="%").get_json()["total"] == 0


def test_y9_api_customer_detail_timeline_and_orders(client, auth, shop, workspace):
    cid = shop["cust_a"]
    tag = Tag(workspace_id=workspace.id, name="vip")
    group = Group(workspace_id=workspace.id, name="Spring")
    db.session.add_all([tag, group])
    db.session.flush()
    db.session.add_all(
        [
            CustomerTag(customer_id=cid, tag_id=tag.id),
            GroupMember(group_id=group.id, customer_id=cid),
        ]
    )
    db.session.get(Customer, cid).stage = "customer"
    db.session.commit()
    body = get(client, auth, f"/customers/{cid}").get_json()
    assert {"type": "yz_open_id", "value": "buyer-a"} in [
        {k: i[k] for k in ("type", "value")} for i in body["identities"]
    ]
    assert body["tags"] == ["vip"]
    assert body["groups"] == [{"id": group.id, "name": "Spring"}]
    assert body["stage"] == "customer" and isinstance(body["activity_score"], int)
    timeline = get(client, auth, f"/customers/{cid}/timeline").get_json()
    # newest first; A1, the first purchase, also records first_purchase (issue 22.3)
    assert [e["type"] for e in timeline["items"]] == ["purchase", "first_purchase", "purchase"]
    assert timeline["items"][0]["occurred_at"] >= timeline["items"][1]["occurred_at"]
    assert timeline["items"][0]["amount"] == "100.00"
    assert order_nos(get(client, auth, f"/customers/{cid}/orders")) == ["A1", "A3"]


# ------------------------------------------------------------------ orders (S1)


def test_s1_orders_filter_by_order_no(client, auth, shop):
    assert order_nos(get(client, auth, "/orders", order_no="A2")) == ["A2"]
    assert order_nos(get(client, auth, "/orders", order_no="O1")) == []


def test_s1_orders_filter_by_status(client, auth, shop):
    assert order_nos(get(client, auth, "/orders", status="paid")) == ["A1"]
    assert order_nos(get(client, auth, "/orders", status="paid,shipped")) == ["A1", "A3"]


def test_s1_orders_filter_by_time_range(client, auth, shop):
    day = T0 + timedelta(days=9)
    assert order_nos(get(client, auth, "/orders", **{"from": day.isoformat()})) == ["A2", "A3"]
    assert order_nos(get(client, auth, "/orders", to=day.date().isoformat())) == ["A1"]
    until = (T0 + timedelta(days=15)).isoformat()
    assert order_nos(get(client, auth, "/orders", **{"from": day.isoformat(), "to": until})) == [
        "A2"
    ]


def test_s1_orders_time_range_bounds_are_inclusive_in_any_offset(client, auth, shop):
    day = T0 + timedelta(days=10)  # exactly A2's order time
    assert order_nos(get(client, auth, "/orders", **{"from": day.isoformat()})) == ["A2", "A3"]
    assert order_nos(get(client, auth, "/orders", to=day.date().isoformat())) == ["A1", "A2"]
    local = day.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()  # the same instant, +08:00
    assert order_nos(get(client, auth, "/orders", **{"from": local, "to": local})) == ["A2"]


def test_s1_orders_filter_by_store_id_or_connection(client, auth, shop):
    assert order_nos(get(client, auth, "/orders", store="store-1")) == ["A1", "A3"]
    assert order_nos(get(client, auth, "/orders", store="store-9")) == []


def test_s1_orders_filter_by_source_or_sales_channel(client, auth, shop):
    assert order_nos(get(client, auth, "/orders", source="youzan")) == ["A2"]
    assert order_nos(get(client, auth, "/orders", source="Fake")) == ["A1", "A3"]


def test_api_orders_paging(client, auth, shop):
    first = get(client, auth, "/orders", per_page=2).get_json()
    second = get(client, auth, "/orders", per_page=2, page=2).get_json()
    assert (first["total"], first["page"], first["per_page"]) == (3, 1, 2)
    assert [o["order_no"] for o in first["items"]] == ["A3", "A2"]  # newest first
    assert [o["order_no"] for o in second["items"]] == ["A1"]
    assert get(client, auth, "/orders", page=9).get_json()["items"] == []


def test_api_order_detail_money_strings_and_aware_times(client, auth, shop):
    body = get(client, auth, f"/orders/{shop['A2']}").get_json()
    assert body["amount_paid"] == "100.00" and body["amount_total"] == "100.00"
    assert body["ordered_at"].endswith("+00:00")
    assert body["store_id"] == "store-2" and body["external_id"] == "A2"
    assert [li["total"] for li in body["lines"]] == ["50.00", "50.00"]
    assert body["consignee"]["city"] == "Hangzhou"
    assert [e["type"] for e in body["events"]] == ["purchase", "first_purchase"]  # B's first
    assert body["refunds"] == []


def test_api_products_are_listed_per_workspace(client, auth, shop):
    body = get(client, auth, "/products", per_page=1).get_json()
    assert body["total"] >= 1 and len(body["items"]) == 1
    assert isinstance(body["items"][0]["external_id"], str)
