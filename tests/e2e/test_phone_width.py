"""Issue 22.18: every page works at a phone's width. Chromium at 390x844 visits each page of
the admin UI, signed in, with data on it, and the document never scrolls sideways: wide tables
scroll inside their own box and the navigation wraps above the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from hub.extensions import db
from hub.imports import service as imports
from hub.models import WebhookDelivery
from hub.services import customers
from hub.sync import service as syncs
from tests.support.sample_shop import load_sample_shop
from tests.support.ui import PASSWORD, make_user, seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
SHOTS = {"/dashboard": "40-phone-dashboard", "/orders": "41-phone-orders",
         "/customers/1": "42-phone-customer"}  # fmt: skip
CUSTOMERS = "connectors.customers.connector:CustomersConnector"
WIDTH = "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
# The widest thing on the page: what to fix when the test fails.
WIDEST = """() => { let w = null; for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect(); if (r.right > 390.5 && (!w || r.right > w.r))
  w = {r: r.right, tag: e.tagName, cls: e.className, text: (e.textContent || '').slice(0, 60)}; }
  return w; }"""


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], CUSTOMERS]}


def data(app, workspace, tmp_path: Path) -> list[str]:
    """A workspace with orders, customers, a store, a sync run, an import with failures, a
    webhook delivery, a tag, a group and a custom field; the pages that show them."""
    load_sample_shop(db.session, workspace.id, orders=60, customers=20, seed=5)
    mine = seed(workspace, tmp_path)
    csv = tmp_path / "a-customer-file-with-a-rather-long-name-from-the-crm-export.csv"
    csv.write_text("Full name,Phone,Mail\nWang Fang,+86 139 1111 2222,wf@example.com\nBad,12345,\n")
    delivery = WebhookDelivery(
        workspace_id=workspace.id, connection_id=mine.connection_id, platform="fake",
        delivery_id="d-" + "7" * 60, topic="trade_TradePaid", headers={}, body=b'{"id": 1}',
        status="failed", error="the order could not be read: " + "x" * 200,
    )  # fmt: skip
    db.session.add(delivery)
    db.session.commit()
    with app.test_request_context():
        run = syncs.request_sync(workspace.id, mine.connection_id)
        settings = {"group": "Spring fair visitors", "tags": ["VIP"]}
        done = imports.start(workspace.id, "customers", [(csv.name, csv)], enqueue=False,
                             settings=settings)  # fmt: skip
        customers.add_tag(workspace.id, mine.customer_id, "long-time tea buyer from Hangzhou")
        customers.create_field(workspace.id, "property", "shoe_size", "Shoe size")
    return ["/dashboard", "/dashboard?start=2024-01-01&end=2024-06-29", "/stores",
            f"/stores/{mine.connection_id}", "/stores/bind/fake", "/syncs", f"/syncs/{run.id}",
            "/inbox", f"/inbox/{delivery.id}", "/customers", f"/customers/{mine.customer_id}",
            "/orders", f"/orders/{mine.order_id}", "/products", "/tags", "/merges", "/imports",
            "/imports/new", f"/imports?kind=customers&run={done.id}", "/settings/events",
            "/settings/fields", "/settings/tokens", "/no-such-page"]  # fmt: skip


def too_wide(page, path: str) -> list[str]:
    """[] when the page fits the phone's width, else what is too wide."""
    scroll, client = page.evaluate(WIDTH)
    assert client == PHONE["width"]
    return [] if scroll <= PHONE["width"] else [f"{path}: {scroll}px: {page.evaluate(WIDEST)}"]


def test_every_page_fits_a_phone_without_sideways_scrolling(
    app, live_server, page, workspace, tmp_path, screenshots
):
    paths = data(app, workspace, tmp_path)
    make_user(workspace, "admin.with.a.long.address@acme-tea-company.example.com")
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/login")
    wide = too_wide(page, "/login")
    page.fill("#email", "admin.with.a.long.address@acme-tea-company.example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("nav.sidenav")).to_be_visible()
    for path in paths:
        page.goto(live_server + path)
        expect(page.locator("h1").first).to_be_visible()
        wide += too_wide(page, path)
        if path in SHOTS:
            page.screenshot(path=str(screenshots / f"{SHOTS[path]}.png"), full_page=True)
    assert wide == [], "\n".join(wide)
    # a wide table scrolls in its own box, and the navigation is all reachable
    page.goto(live_server + "/orders")
    table = page.locator("table.table").first
    assert table.evaluate("t => t.scrollWidth > t.clientWidth && getComputedStyle(t).overflowX")
    links = page.locator("nav.sidenav a")
    for n in range(links.count()):
        box = links.nth(n).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
