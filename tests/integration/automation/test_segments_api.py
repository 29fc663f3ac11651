"""Segments over the API (A2): CRUD, members paged like /customers, the count preview, CSV
export and "save as static group", scoped to the token's workspace; on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.extensions import db
from hub.models import GroupMember
from hub.services import tokens
from tests.integration.automation import builders as b

API = "/api/v1"
TWICE_IN_90 = [
    {"field": "bought", "op": "gte", "value": {"sku": "TEA-1", "count": 2, "within_days": 90}}
]


def auth(ws: int, role: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(ws, 'tests', role=role)[1]}"}


@pytest.fixture
def shop(app: Flask, workspace: Any) -> int:
    """ann and eve bought TEA-1 twice within 90 days (eve also a year ago), bob once."""
    ws = workspace.id
    tea = {"sku_id": "TEA-1", "product_external_id": "p1", "name": "Green Tea", "qty": 1}
    ann = b.customer(ws, "=ann", mobile="13900001111", stage="customer")
    bob = b.customer(ws, "bob")
    eve = b.customer(ws, "eve")
    for c, days in ((ann, 5), (ann, 80), (bob, 10), (eve, 1), (eve, 2), (eve, 400)):
        b.order(ws, c, days_ago=days, lines=[tea])
    b.tag(ws, ann, "VIP")
    db.session.commit()
    return ws


def test_a2_segment_crud_and_members(client: FlaskClient, shop: int) -> None:
    h = auth(shop)
    made = client.post(f"{API}/segments", json={"name": "Tea twice", "filter": TWICE_IN_90},
                       headers=h)  # fmt: skip
    assert made.status_code == 201, made.json
    seg = made.json
    assert (seg["name"], seg["filter"], seg["count"]) == ("Tea twice", TWICE_IN_90, 2)
    listed = client.get(f"{API}/segments", headers=h).json
    assert [s["id"] for s in listed["items"]] == [seg["id"]] and listed["total"] == 1

    members = client.get(f"{API}/segments/{seg['id']}/customers?per_page=1", headers=h).json
    assert members["total"] == 2 and len(members["items"]) == 1
    everyone = client.get(f"{API}/customers", headers=h).json["items"]
    same = next(c for c in everyone if c["id"] == members["items"][0]["id"])
    assert members["items"][0] == same  # the item shape of /customers, facts included
    page2 = client.get(f"{API}/segments/{seg['id']}/customers?per_page=1&page=2", headers=h)
    names = {members["items"][0]["name"], page2.json["items"][0]["name"]}
    assert names == {"=ann", "eve"}

    vip = [*TWICE_IN_90, {"field": "tags", "op": "contains", "value": "vip"}]
    changed = client.patch(f"{API}/segments/{seg['id']}", json={"filter": vip}, headers=h)
    assert changed.json["count"] == 1
    assert client.get(f"{API}/segments/{seg['id']}", headers=h).json["filter"] == vip
    assert client.delete(f"{API}/segments/{seg['id']}", headers=h).json == {"deleted": seg["id"]}
    assert client.get(f"{API}/segments/{seg['id']}", headers=h).status_code == 404


def test_a2_preview_counts_without_saving(client: FlaskClient, shop: int) -> None:
    h = auth(shop, "analyst")
    resp = client.post(f"{API}/segments/preview", json={"filter": TWICE_IN_90}, headers=h)
    assert resp.json == {"count": 2}
    once = [{"field": "bought", "op": "gte", "value": {"sku": "TEA-1", "within_days": 30}}]
    assert client.post(f"{API}/segments/preview", json={"filter": once}, headers=h).json == {
        "count": 3
    }
    assert client.get(f"{API}/segments", headers=h).json["total"] == 0
    refused = client.post(f"{API}/segments", json={"name": "x", "filter": []}, headers=h)
    assert refused.status_code == 403  # an analyst previews, an admin saves


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "filter": [{"field": "stage", "op": "gt", "value": 1}]}, "filter[0].op"),
        (
            {"name": "x", "filter": {"any": [{"field": "nope", "op": "eq", "value": 1}]}},
            "filter.any[0].field",
        ),  # fmt: skip
        ({"name": "", "filter": []}, "name"),
        ({"name": "x"}, "filter"),
        (
            {"name": "x", "filter": [{"field": "segment", "op": "in", "value": 999}]},
            "filter[0].value",
        ),  # fmt: skip
    ],
)
def test_a2_segment_refused_names_the_field(
    client: FlaskClient, shop: int, body: dict, field: str
) -> None:
    resp = client.post(f"{API}/segments", json=body, headers=auth(shop))
    assert resp.status_code == 400
    assert resp.json["error"]["field"] == field, resp.json


def test_a2_segment_names_unique_and_workspace_scoped(
    client: FlaskClient, shop: int, other_workspace: Any
) -> None:
    h = auth(shop)
    seg = client.post(f"{API}/segments", json={"name": "A", "filter": []}, headers=h).json
    again = client.post(f"{API}/segments", json={"name": "a", "filter": []}, headers=h)
    assert again.status_code == 400 and again.json["error"]["field"] == "name"
    theirs = auth(other_workspace.id)
    assert client.get(f"{API}/segments/{seg['id']}", headers=theirs).status_code == 404
    assert client.get(f"{API}/segments/{seg['id']}/customers", headers=theirs).status_code == 404
    nested = {"name": "B", "filter": [{"field": "segment", "op": "in", "value": seg["id"]}]}
    assert client.post(f"{API}/segments", json=nested, headers=theirs).status_code == 400
    assert client.post(f"{API}/segments", json=nested, headers=h).json["count"] == 3
    blocked = client.delete(f"{API}/segments/{seg['id']}", headers=h)
    assert blocked.status_code == 400 and "B" in blocked.json["error"]["message"]


def test_a2_csv(client: FlaskClient, shop: int) -> None:
    h = auth(shop)
    seg = client.post(f"{API}/segments", json={"name": "T", "filter": TWICE_IN_90}, headers=h)
    resp = client.get(f"{API}/segments/{seg.json['id']}/customers.csv", headers=h)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    plain = client.get(f"{API}/customers.csv", headers=h).get_data(as_text=True)
    assert rows[0] == next(csv.reader(io.StringIO(plain.removeprefix("\ufeff"))))
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {"'=ann", "eve"}  # the formula-like name neutralised
    assert by_name["'=ann"][rows[0].index("tags")] == "VIP"


def test_a2_save_as_group(client: FlaskClient, shop: int) -> None:
    h = auth(shop)
    seg = client.post(f"{API}/segments", json={"name": "T", "filter": TWICE_IN_90}, headers=h)
    resp = client.post(f"{API}/segments/{seg.json['id']}/group", json={"name": "Tea lovers"},
                       headers=h)  # fmt: skip
    assert resp.status_code == 201, resp.json
    group = resp.json
    assert (group["name"], group["members"]) == ("Tea lovers", 2)
    listed = client.get(f"{API}/customers?group=Tea lovers", headers=h).json["items"]
    assert {c["name"] for c in listed} == {"=ann", "eve"}
    # A static group: it keeps its members when the segment's answer changes.
    b.order(shop, None, days_ago=1)
    client.patch(f"{API}/segments/{seg.json['id']}", json={"filter": []}, headers=h)
    assert db.session.query(GroupMember).filter_by(group_id=group["id"]).count() == 2
    taken = client.post(f"{API}/segments/{seg.json['id']}/group", json={"name": "tea LOVERS"},
                        headers=h)  # fmt: skip
    assert taken.status_code == 400 and taken.json["error"]["field"] == "name"


def test_a2_a_segment_a_rule_uses_cannot_be_deleted(client: FlaskClient, shop: int) -> None:
    h = auth(shop)
    seg = client.post(f"{API}/segments", json={"name": "Loyal", "filter": []}, headers=h).json
    rule = {
        "name": "Loyal buyers",
        "trigger": {"type": "purchase"},
        "conditions": [{"field": "segment", "op": "in", "value": seg["id"]}],
        "actions": [{"type": "add_tag", "tag": "loyal"}],
        "enabled": True,
    }
    made = client.post(f"{API}/rules", json=rule, headers=h)
    assert made.status_code == 201, made.json
    blocked = client.delete(f"{API}/segments/{seg['id']}", headers=h)
    assert blocked.status_code == 400 and "Loyal buyers" in blocked.json["error"]["message"]
    assert client.delete(f"{API}/rules/{made.json['id']}", headers=h).status_code in (200, 204)
    assert client.delete(f"{API}/segments/{seg['id']}", headers=h).status_code == 200
