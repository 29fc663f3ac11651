"""Issue 22.1 in Chromium: the orders page shows times in the workspace's zone, labelled, its
date filter takes days of that zone, and an admin changes the zone on the workspace page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_admin_browser import shot, sign_in
from tests.support.ui import make_user
from tests.support.youzan_orders import youzan_order

pytestmark = [pytest.mark.browser]


def test_orders_in_the_workspace_zone_and_changing_it(app, live_server, page, workspace,
                                                      screenshots):  # fmt: skip
    youzan_order(workspace, "LATE", "2026-11-14 20:33:00")  # 12:33 UTC
    youzan_order(workspace, "EARLY", "2026-11-15 00:30:00")  # 16:30 UTC on the 14th
    make_user(workspace, "admin@acme.test")
    sign_in(page, live_server, "admin@acme.test")

    page.goto(live_server + "/orders")
    late = page.locator("[data-test=orders] tr", has_text="LATE")
    expect(late).to_contain_text("2026-11-14 20:33 (UTC+08:00)")
    expect(page.locator("[data-test=time-zone]")).to_contain_text("Asia/Shanghai")

    page.fill("input[name=since]", "2026-11-15")
    page.fill("input[name=until]", "2026-11-15")
    page.click("[data-test=order-filters] button[type=submit]")
    expect(page.locator("[data-test=orders] tbody tr")).to_have_count(1)
    expect(page.locator("[data-test=orders]")).to_contain_text("EARLY")
    expect(page.locator("[data-test=orders]")).to_contain_text("2026-11-15 00:30 (UTC+08:00)")
    shot(page, screenshots, "40-orders-in-workspace-zone")

    page.click("[data-nav=workspace]")
    expect(page).to_have_url(re.compile(r"/settings/workspace$"))
    page.fill("#time_zone", "Mars/Olympus")
    page.click("[data-test=workspace-form] button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("Time zone: “Mars/Olympus”")
    expect(page.locator("#time_zone")).to_have_value("Mars/Olympus")
    page.fill("#time_zone", "Europe/London")
    page.click("[data-test=workspace-form] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Europe/London")

    page.goto(live_server + "/orders")
    late = page.locator("[data-test=orders] tr", has_text="LATE")
    expect(late).to_contain_text("2026-11-14 12:33 (UTC+00:00)")
    expect(page.locator("[data-test=time-zone]")).to_contain_text("Europe/London")
