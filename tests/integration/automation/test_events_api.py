"""GET /api/v1/events (issue 25): the workspace's events, paged, newest first, filtered by
type, customer, source and a time range read in the workspace's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.extensions import db
from hub.models import Event
from hub.services import tokens
from tests.integration.automation import builders as b

API = "/api/v1/events"


@pytest.fixture
def stream(app: Flask, workspace: Any, other_workspace: Any) -> dict[str, Any]:
    ws = workspace.id
    workspace.time_zone = "Asia/Shanghai"
    ann = b.customer(ws, "ann")
    bob = b.customer(ws, "bob")
    b.order(ws, ann, days_ago=3, paid="120.50", source="youzan")
    b.order(ws, bob, days_ago=2, paid="80.00", source="shopify")
    b.event(ws, ann, "return", days_ago=0.5, amount=Decimal("20.00"), source="youzan",
            properties={"reason": "broken"})  # fmt: skip
    # 2026-11-29 17:00 UTC is 01:00 on the 30th in Shanghai: the 30th there.
    at = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    late = Event(workspace_id=ws, customer_id=bob.id, type="page_view", source="web",
                 occurred_at=at, dedupe_key="pv:late")  # fmt: skip
    db.session.add(late)
    theirs = b.customer(other_workspace.id, "theirs")
    b.order(other_workspace.id, theirs, days_ago=1)
    db.session.commit()
    token = tokens.create_token(ws, "tests", role="read-only")[1]
    return {"h": {"Authorization": f"Bearer {token}"}, "ann": ann.id, "bob": bob.id}


def test_events_api_newest_first_workspace_scoped(client: FlaskClient, stream: dict) -> None:
    body = client.get(API, headers=stream["h"]).json
    assert body["total"] == 4
    types = [(e["type"], e["occurred_at"]) for e in body["items"]]
    assert [t for t, _ in types] == ["return", "page_view", "purchase", "purchase"]
    assert [w for _, w in types] == sorted((w for _, w in types), reverse=True)
    item = body["items"][0]
    assert set(item) == {"id", "type", "customer_id", "order_id", "occurred_at", "amount",
                         "source", "properties"}  # fmt: skip
    assert item["amount"] == "20.00" and item["occurred_at"].endswith("+00:00")
    assert item["properties"] == {"reason": "broken"}
    purchase = body["items"][-1]
    assert (purchase["amount"], purchase["customer_id"]) == ("120.50", stream["ann"])
    assert isinstance(purchase["order_id"], int)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=purchase", ["purchase", "purchase"]),
        ("type=return,page_view", ["return", "page_view"]),
        ("source=Shopify", ["purchase"]),
        ("source=%E6%9C%89%E8%B5%9E", ["return", "purchase"]),  # 有赞: youzan's name
        ("from=2026-11-30&to=2026-11-30", ["page_view"]),  # the 30th in Shanghai
        ("from=2026-11-29T00:00:00%2B08:00&to=2026-11-29", ["purchase"]),
        ("type=purchase&per_page=1&page=2", ["purchase"]),
    ],
)
def test_events_api_filters(
    client: FlaskClient, stream: dict, query: str, expected: list[str]
) -> None:
    body = client.get(f"{API}?{query}", headers=stream["h"]).json
    assert [e["type"] for e in body["items"]] == expected, body


def test_events_api_by_customer(client: FlaskClient, stream: dict) -> None:
    body = client.get(f"{API}?customer_id={stream['bob']}", headers=stream["h"]).json
    assert [e["type"] for e in body["items"]] == ["page_view", "purchase"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=yesterday", "from"),
        ("from=2026-12-01&to=2026-11-01", "from"),
        ("customer_id=abc", "customer_id"),
        ("page=0", "page"),
    ],  # fmt: skip
)
def test_events_api_refuses_naming_the_argument(
    client: FlaskClient, stream: dict, query: str, field: str
) -> None:
    resp = client.get(f"{API}?{query}", headers=stream["h"])
    assert resp.status_code == 400 and resp.json["error"]["field"] == field
