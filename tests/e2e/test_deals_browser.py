"""H5/H6 in Chromium: the Deals page (nav entry) shows the pipeline board of six stages with
counts and amounts, filters by stage and source, links each deal to its customer and order;
the customer page lists the customer's deals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from hub.core import ingest
from hub.core.records import CheckoutRecord, CustomerRecord
from hub.extensions import db
from tests.e2e.test_admin_browser import shot, sign_in
from tests.support.orders import order
from tests.support.ui import make_user

pytestmark = [pytest.mark.browser]


def test_h5_deals_page_board_filters_and_links(app, live_server, page, workspace, screenshots):
    shopify = order("1001", status="paid", source="shopify",
                    identities=[("email", "ann@tea-lovers.cn")], name="Ann Buyer")  # fmt: skip
    shopify.properties = {"name": "#1001", "financial_status": "paid",
                          "fulfillment_status": "fulfilled"}  # fmt: skip
    at = datetime.now(UTC) - timedelta(hours=3)
    cart = CheckoutRecord(
        source="shopify", external_id="77", created_at=at, updated_at=at, token="t77",
        buyer=CustomerRecord(identities=[("email", "cy@tea-lovers.cn")], name="Cy Cart",
                             email="cy@tea-lovers.cn"),
        amount_total=Decimal("30.00"), currency="USD",
    )  # fmt: skip
    ingest.apply(db.session, workspace.id, [
        shopify, cart, order("Y1", status="pending", source="youzan", paid="20.00")])  # fmt: skip
    make_user(workspace, "admin@acme.test")
    sign_in(page, live_server, "admin@acme.test")
    page.goto(live_server + "/stores", timeout=60_000)
    page.locator("[data-nav=deals]").click()
    expect(page).to_have_url(re.compile(r"/deals$"))
    board = page.locator("[data-test=deal-board]")
    expect(board.locator("a")).to_have_count(6)
    shipped = board.locator("[data-test=stage-shipped]")
    expect(shipped.locator("[data-test=stage-count]")).to_have_text("1")
    expect(shipped.locator("[data-test=stage-amount]")).to_contain_text("100.00")
    abandoned = board.locator("[data-test=stage-checkout_abandoned]")
    expect(abandoned.locator("[data-test=stage-count]")).to_have_text("1")
    expect(abandoned.locator("[data-test=stage-amount]")).to_contain_text("30.00")
    expect(board.locator("[data-test=stage-checkout_completed] [data-test=stage-count]")
           ).to_have_text("1")  # fmt: skip
    expect(page.locator("[data-test=deals] tbody tr")).to_have_count(3)
    shot(page, screenshots, "deals-board")
    # filter by stage from the board, then by source from the form
    abandoned.click()
    expect(page.locator("[data-test=deals] tbody tr")).to_have_count(1)
    expect(page.locator("[data-test=deal-77]")).to_contain_text("Checkout abandoned")
    page.goto(live_server + "/deals", timeout=60_000)
    page.locator("[data-test=deal-source]").select_option("youzan")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("[data-test=deals] tbody tr")).to_have_count(1)
    expect(page.locator("[data-test=deal-Y1]")).to_be_visible()
    # the order's deal links to its order and its customer; the customer lists its deals
    page.goto(live_server + "/deals?stage=shipped", timeout=60_000)
    page.locator("[data-test=deal-1001] [data-test=deal-order]").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    page.go_back()
    page.locator("[data-test=deal-1001] [data-test=deal-customer]").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    page.locator("[data-test=tab-deals]").click()
    expect(page.locator("[data-test=customer-deals] tbody tr")).to_have_count(1)
    expect(page.locator("[data-test=customer-deals]")).to_contain_text("#1001")
    # an unknown stage says which argument is wrong
    response = page.goto(live_server + "/deals?stage=won", timeout=60_000)
    assert response is not None and response.status == 400
    expect(page.locator(".errorpage")).to_contain_text("stage must be one of")
