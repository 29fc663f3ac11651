"""The ecommerce dashboard (A3): sign-in, KPIs from the library, filters, local plotly.js."""

from __future__ import annotations

import json
import re

import pytest

from hub.analytics import load_transactions
from hub.analytics.dashboard import build
from hub.extensions import db
from tests.support.sample_shop import load_sample_shop
from tests.support.ui import login, make_user

RANGE = {"start": "2024-01-01", "end": "2024-06-29"}


@pytest.fixture
def shop(app, workspace, other_workspace):
    load_sample_shop(db.session, workspace.id, orders=300, customers=90, seed=5)
    load_sample_shop(db.session, other_workspace.id, orders=50, customers=20, seed=6)
    make_user(workspace, "admin@acme.test")
    return workspace


def _kpi(html: str, key: str) -> str:
    match = re.search(
        rf'data-kpi="{key}"><div class="label">[^<]*</div><div class="value">([^<]*)<', html
    )
    assert match, key
    return match.group(1)


def test_a3_dashboard_requires_sign_in(client, shop) -> None:
    response = client.get("/dashboard")
    assert response.status_code in (302, 401)


def test_a3_dashboard_shows_the_standard_reports(client, shop) -> None:
    login(client, "admin@acme.test")
    response = client.get("/dashboard", query_string=RANGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    tx = load_transactions(shop, "2024-01-01", "2024-06-30")
    assert _kpi(html, "orders") == f"{len(tx):,}"
    assert _kpi(html, "revenue") == f"{tx['amount'].sum():,.2f}"
    figures = json.loads(re.search(r'id="dashboard-figures">(.*?)</script>', html, re.S).group(1))
    assert set(figures) == {
        "revenue", "orders", "aov", "new_vs_returning", "top_products", "revenue_by_source",
    }  # fmt: skip
    assert 'data-empty="checkouts"' in html  # no checkout in this shop: said, not drawn (22.6)
    assert "cdn" not in html.lower()
    assert "/dashboard/plotly.min.js" in html


def test_a3_dashboard_source_filter_and_workspace_scope(client, shop, other_workspace) -> None:
    login(client, "admin@acme.test")
    html = client.get("/dashboard", query_string={**RANGE, "source": "tmall"}).get_data(True)
    tmall = load_transactions(shop, "2024-01-01", "2024-06-30", ["tmall"])
    assert _kpi(html, "orders") == f"{len(tmall):,}"
    board = build(shop.id, "2024-01-01", "2024-06-29")
    other = build(other_workspace.id, "2024-01-01", "2024-06-29")
    assert board.kpis["orders"] == len(load_transactions(shop, "2024-01-01", "2024-06-30"))
    assert other.kpis["orders"] == len(
        load_transactions(other_workspace, "2024-01-01", "2024-06-30")
    )
    assert board.kpis["orders"] != other.kpis["orders"]


def test_a3_dashboard_serves_plotly_locally(client) -> None:
    response = client.get("/dashboard/plotly.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert b"plotly.js v" in response.data[:2000]


def test_a3_new_vs_returning_uses_history_before_the_range(app, shop) -> None:
    board = build(shop.id, "2024-04-01", "2024-06-29")
    early = load_transactions(shop, None, "2024-04-01").dropna(subset=["customer_id"])
    late = load_transactions(shop, "2024-04-01", "2024-06-30").dropna(subset=["customer_id"])
    repeaters = late.groupby("customer_id").size()
    returning = set(early["customer_id"]) | set(repeaters[repeaters >= 2].index)
    expected = len(set(late["customer_id"]) & returning) / late["customer_id"].nunique()
    assert board.kpis["returning_customer_rate"] == pytest.approx(expected)
    bars = board.figures["new_vs_returning"].data
    new_total = sum(bars[0].y)
    first_in_range = set(late["customer_id"]) - set(early["customer_id"])
    assert new_total == len(first_in_range)
