"""The condition compiler (A1, A2): every field and op, on SQLite and PostgreSQL, the segment
form (uncorrelated, one query over all customers) and the rule form (correlated) alike."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import aliased

from hub.automation import segments
from hub.automation.conditions import customer_clause, event_clause, parse
from hub.core.errors import Refused
from hub.extensions import db
from hub.models import Customer, Event, Segment
from tests.integration.automation import builders as b


@pytest.fixture
def people(app: Flask, workspace: Any) -> int:
    ws = workspace.id
    ann = b.customer(ws, "ann", stage="customer", activity_score=10, original_source="youzan",
                     properties={"city": "Hangzhou", "tier": 3})  # fmt: skip
    bob = b.customer(ws, "bob", activity_score=0)
    cy = b.customer(ws, "cy", stage="lead", activity_score=5, original_source="shopify")
    dan = b.customer(ws, "dan", stage="customer", merged_into_id=ann.id)
    tea = {"sku_id": "TEA-1", "product_external_id": "p1", "name": "Green Tea", "qty": 1}
    cup = {"sku_id": "CUP", "product_external_id": "p2", "name": "Tea cup", "qty": 1}
    b.order(ws, ann, days_ago=5, paid="150.00", store_name="West Lake", lines=[tea | {"qty": 2}])
    b.order(ws, ann, days_ago=40, paid="100.00", lines=[tea])
    b.order(ws, bob, days_ago=100, paid="300.00", source="shopify", store_id="store-9", lines=[cup])
    closed = {"status": "closed", "event": "cancel", "source": "shopify"}
    b.order(ws, bob, days_ago=1, paid="0.00", lines=[tea | {"qty": 9}], **closed)
    b.order(ws, dan, days_ago=2, paid="50.00")
    for days in (1, 2, 3):
        b.event(ws, ann, "page_view", days_ago=days)
    b.event(ws, cy, "page_view", days_ago=30)
    b.tag(ws, ann, "VIP")
    b.tag(ws, cy, "Newsletter")
    b.group(ws, "Wholesale", ann, bob)
    b.identity(ws, ann, "mobile", "13900001111")
    b.identity(ws, cy, "wechat_openid", "o-1")
    db.session.commit()
    return ws


def names(ws: int, tree: Any) -> set[str]:
    """The names matching ``tree`` in the segment form; the rule form must agree."""
    stmt = segments.member_ids(db.session, ws, tree, now=b.NOW)
    ids = set(db.session.scalars(stmt))
    c = aliased(Customer)
    cond = parse(tree, where="filter", scope="customer")
    clause = customer_clause(cond, workspace_id=ws, customer=c.id, now=b.NOW, session=db.session)
    correlated = select(c.id).where(c.workspace_id == ws, c.merged_into_id.is_(None), clause)
    assert set(db.session.scalars(correlated)) == ids
    found = db.session.scalars(select(Customer.name).where(Customer.id.in_(ids)))
    return set(found)


def leaf(field: str, op: str, value: Any = None) -> list[dict[str, Any]]:
    out = {"field": field, "op": op}
    return [out if value is None else {**out, "value": value}]


CUSTOMER_CASES = [
    (leaf("stage", "eq", "Customer"), {"ann"}),
    (leaf("stage", "ne", "customer"), {"bob", "cy"}),
    (leaf("stage", "in", ["lead", "customer"]), {"ann", "cy"}),
    (leaf("stage", "not_in", ["lead"]), {"ann", "bob"}),
    (leaf("stage", "contains", "ea"), {"cy"}),
    (leaf("stage", "not_contains", "ea"), {"ann", "bob"}),
    (leaf("stage", "exists"), {"ann", "cy"}),
    (leaf("stage", "not_exists"), {"bob"}),
    (leaf("score", "gt", 5), {"ann"}),
    (leaf("score", "gte", 5), {"ann", "cy"}),
    (leaf("score", "lt", 5), {"bob"}),
    (leaf("score", "lte", "5"), {"bob", "cy"}),
    (leaf("score", "eq", 0), {"bob"}),
    (leaf("score", "in", [0, 10]), {"ann", "bob"}),
    (leaf("tags", "contains", "vip"), {"ann"}),
    (leaf("tags", "not_contains", "VIP"), {"bob", "cy"}),
    (leaf("tags", "in", ["vip", "newsletter"]), {"ann", "cy"}),
    (leaf("tags", "not_exists"), {"bob"}),
    (leaf("groups", "contains", "wholesale"), {"ann", "bob"}),
    (leaf("groups", "not_contains", "Wholesale"), {"cy"}),
    (leaf("properties.city", "eq", "Hangzhou"), {"ann"}),
    (leaf("properties.tier", "eq", "3"), {"ann"}),
    (leaf("properties.city", "exists"), {"ann"}),
    (leaf("properties.city", "ne", "Hangzhou"), {"bob", "cy"}),
    (leaf("identity", "exists", "mobile"), {"ann"}),
    (leaf("identity", "not_exists", "mobile"), {"bob", "cy"}),
    (leaf("orders_count", "gte", 2), {"ann"}),
    (leaf("orders_count", "eq", 0), {"cy"}),
    (leaf("orders_count", "lt", 2), {"bob", "cy"}),
    (leaf("orders_count", "ne", 1), {"ann", "cy"}),
    (leaf("total_spent", "gte", "250"), {"ann", "bob"}),
    (leaf("total_spent", "gt", "250.00"), {"bob"}),
    (leaf("total_spent", "lt", 1), {"cy"}),
    (leaf("total_spent", "eq", "250.00"), {"ann"}),
    (leaf("source", "eq", "Youzan"), {"ann"}),
    (leaf("source", "eq", "shopify"), {"bob", "cy"}),
    (leaf("source", "ne", "shopify"), {"ann"}),
    (leaf("created_at", "lt", "2026-10-01"), {"bob"}),
    (leaf("created_at", "gte", "2026-10-01T00:00:00+08:00"), {"ann", "cy"}),
    ({"any": [*leaf("stage", "eq", "lead"), *leaf("tags", "contains", "vip")]}, {"ann", "cy"}),
    (
        {"all": [*leaf("groups", "contains", "wholesale"), {"any": leaf("score", "gt", 1)}]},
        {"ann"},
    ),  # fmt: skip
    # sibling purchase aggregates of a segment share one grouped scan of the orders
    (
        {"any": [*leaf("orders_count", "gte", 2), *leaf("total_spent", "gt", "250")]},
        {"ann", "bob"},
    ),  # fmt: skip
    (
        [
            *leaf("orders_count", "gte", 1),
            *leaf("total_spent", "gte", "250"),
            *leaf("stage", "eq", "customer"),
        ],
        {"ann"},
    ),  # fmt: skip
    (
        {
            "any": [
                *leaf("orders_count", "eq", 1),
                *leaf("total_spent", "gte", "250"),
                *leaf("tags", "contains", "newsletter"),
            ]
        },
        {"ann", "bob", "cy"},
    ),  # fmt: skip
    (
        {"all": [*leaf("orders_count", "in", [1, 2]), *leaf("total_spent", "lt", "260")]},
        {"ann"},
    ),  # fmt: skip
    ([], {"ann", "bob", "cy"}),
    ({"any": []}, set()),
]


@pytest.mark.parametrize(("tree", "expected"), CUSTOMER_CASES, ids=lambda x: str(x)[:60])
def test_a2_customer_fields(people: int, tree: Any, expected: set[str]) -> None:
    assert names(people, tree) == expected


def test_a2_bought_sku_within_days(people: int) -> None:
    def bought(n: int, days: int | None, **what: str) -> set[str]:
        value = {"count": n, **what} | ({} if days is None else {"within_days": days})
        return names(people, leaf("bought", "gte", value))

    assert bought(2, 90, sku="TEA-1") == {"ann"}
    assert bought(2, 30, sku="TEA-1") == set()  # the second is 40 days old
    assert bought(1, 30, sku="TEA-1") == {"ann"}  # bob's TEA-1 order was closed: no purchase
    assert bought(1, None, product_id="p2") == {"bob"}
    assert bought(1, 90, product_id="p2") == set()
    assert bought(1, None, name_contains="tea") == {"ann", "bob"}
    assert bought(3, None, name_contains="tea") == set()


def test_a2_did_event_within_days(people: int) -> None:
    def did(n: int, days: int | None, type_: str) -> set[str]:
        value = {"count": n, "type": type_} | ({} if days is None else {"within_days": days})
        return names(people, leaf("did_event", "gte", value))

    assert did(3, 7, "page_view") == {"ann"}
    assert did(1, 7, "page_view") == {"ann"}
    assert did(1, 60, "page_view") == {"ann", "cy"}
    assert did(4, None, "page_view") == set()
    assert did(1, 7, "cancel") == {"bob"}
    assert did(2, None, "purchase") == {"ann"}


def test_a2_segment_of_a_segment(people: int) -> None:
    vip = Segment(workspace_id=people, name="vip", filter=leaf("tags", "contains", "vip"))
    db.session.add(vip)
    db.session.commit()
    assert names(people, leaf("segment", "in", vip.id)) == {"ann"}
    assert names(people, leaf("segment", "not_in", [vip.id])) == {"bob", "cy"}
    vip.filter = leaf("segment", "in", vip.id)
    db.session.commit()
    with pytest.raises(Refused, match="refers to itself"):
        names(people, leaf("segment", "in", vip.id))


EVENT_CASES = [
    (leaf("amount", "gte", "150"), {("ann", "purchase", "150.00"), ("bob", "purchase", "300.00")}),
    (leaf("amount", "lt", "100.00"), {("bob", "cancel", "0.00")}),
    (leaf("source", "eq", "Shopify"), {("bob", "purchase", "300.00"), ("bob", "cancel", "0.00")}),
    (leaf("store", "eq", "west lake"), {("ann", "purchase", "150.00")}),
    (leaf("store", "eq", "store-9"), {("bob", "purchase", "300.00")}),
    (leaf("order_status", "eq", "closed"), {("bob", "cancel", "0.00")}),
    (leaf("line.sku", "eq", "CUP"), {("bob", "purchase", "300.00")}),
    (leaf("line.product_id", "in", ["p2"]), {("bob", "purchase", "300.00")}),
    (leaf("line.name", "contains", "CUP"), {("bob", "purchase", "300.00")}),
    (leaf("line.quantity", "gte", 2), {("ann", "purchase", "150.00"), ("bob", "cancel", "0.00")}),
    (
        [*leaf("line.sku", "eq", "TEA-1"), *leaf("tags", "contains", "vip")],
        {("ann", "purchase", "150.00"), ("ann", "purchase", "100.00")},
    ),  # fmt: skip
    (
        {"any": [*leaf("stage", "eq", "lead"), *leaf("amount", "gt", "200")]},
        {("bob", "purchase", "300.00"), ("cy", "page_view", None)},
    ),  # fmt: skip
]


@pytest.mark.parametrize(("tree", "expected"), EVENT_CASES, ids=lambda x: str(x)[:60])
def test_a1_event_fields(people: int, tree: Any, expected: set[tuple]) -> None:
    e = aliased(Event)
    cond = parse(tree, where="conditions", scope="event")
    clause = event_clause(cond, workspace_id=people, event=e, now=b.NOW, session=db.session)
    rows = db.session.execute(
        select(Customer.name, e.type, e.amount)
        .join(Customer, Customer.id == e.customer_id)
        .where(e.workspace_id == people, Customer.merged_into_id.is_(None), clause)
    )
    assert {(n, t, None if a is None else str(a)) for n, t, a in rows} == expected


REFUSALS = [
    ([{"field": "colour", "op": "eq", "value": "x"}], "filter[0].field", "unknown field"),
    ([{"field": "stage", "op": "gt", "value": "x"}], "filter[0].op", "takes the op"),
    (
        {"any": [{"field": "score", "op": "gt", "value": "many"}]},
        "filter.any[0].value",
        "whole number",
    ),  # fmt: skip
    ([{"field": "total_spent", "op": "gt", "value": "lots"}], "filter[0].value", "amount"),
    ([{"field": "rfm", "op": "eq", "value": "kings"}], "filter[0].value", "champions"),
    ([{"field": "bought", "op": "gte", "value": {"count": 2}}], "filter[0].value", "one of"),
    (
        [{"field": "bought", "op": "gte", "value": {"sku": "A", "count": 0}}],
        "filter[0].value.count",
        "1 or more",
    ),  # fmt: skip
    ([{"field": "amount", "op": "gt", "value": "1"}], "filter[0].field", "unknown field"),
    ({"all": [], "any": []}, "filter", "exactly one of all, any"),
    ([{"field": "stage", "op": "exists", "value": "x"}], "filter[0].value", "no value"),
    ([{"field": "stage", "op": "in", "value": []}], "filter[0].value", "non-empty list"),
    ([{"field": "created_at", "op": "gt", "value": "yesterday"}], "filter[0].value", "date"),
    ("stage", "filter", "list of conditions"),
]


@pytest.mark.parametrize(("tree", "path", "words"), REFUSALS, ids=lambda x: str(x)[:50])
def test_a2_refused_names_the_path(tree: Any, path: str, words: str) -> None:
    with pytest.raises(Refused) as caught:
        parse(tree, where="filter", scope="customer")
    assert caught.value.field == path
    assert words in str(caught.value)


def test_a2_rfm_segments_match_the_analytics(app: Flask, workspace: Any) -> None:
    """The SQL RF segments are the ones hub.analytics.rfm_scores computes from the same
    orders (ties of recency and of order counts included)."""
    import pandas as pd

    from hub.analytics import rfm_scores
    from hub.automation.rfm import scored
    from hub.models import Order

    ws = workspace.id
    for i in range(37):
        c = b.customer(ws, f"c{i}")
        for k in range(1 + (i * 7) % 5):  # 1 to 5 orders; many share a count
            b.order(ws, c, days_ago=(i * 13 + k * 29) % 200 + 1, paid=f"{10 + i}.00")
    b.order(ws, None, days_ago=3)  # an order without customer counts for nobody
    db.session.commit()
    rows = db.session.execute(
        select(Order.customer_id, Order.ordered_at, Order.amount_paid).where(
            Order.customer_id.is_not(None)
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])
    frame["amount"] = frame["amount"].astype(float)
    expected = rfm_scores(frame)["segment"].to_dict()
    rfm = scored(ws)
    got = dict(db.session.execute(select(rfm.c.customer_id, rfm.c.segment)).all())
    assert got == expected
    assert len(set(got.values())) >= 5
    champions = {cid for cid, name in expected.items() if name == "champions"}
    members = segments.member_ids(db.session, ws, leaf("rfm", "eq", "champions"), now=b.NOW)
    assert set(db.session.scalars(members)) == champions
    others = segments.member_ids(db.session, ws, leaf("rfm", "not_in", ["champions"]))
    assert set(db.session.scalars(others)) == set(expected) - champions


def test_a2_a_date_is_a_day_of_the_workspace_time_zone(app: Flask, workspace: Any) -> None:
    """created_at "2026-12-01" is that whole day where the workspace is: an order at 02:00
    in Shanghai (18:00 UTC the day before) was placed on the 1st there, on the 30th in UTC."""
    ws = workspace.id
    late = b.customer(ws, "late")
    b.order(ws, late, days_ago=0.75)  # 2026-11-30 18:00 UTC = 2026-12-01 02:00 +08:00
    workspace.time_zone = "Asia/Shanghai"
    db.session.flush()
    assert names(ws, leaf("created_at", "eq", "2026-12-01")) == {"late"}
    assert names(ws, leaf("created_at", "lt", "2026-12-01")) == set()
    assert names(ws, leaf("created_at", "ne", "2026-11-30")) == {"late"}
    workspace.time_zone = "UTC"
    db.session.flush()
    assert names(ws, leaf("created_at", "eq", "2026-11-30")) == {"late"}
    assert names(ws, leaf("created_at", "lte", "2026-11-30")) == {"late"}
    assert names(ws, leaf("created_at", "gt", "2026-11-30")) == set()
