"""Issue 22.6 and 22.17 in Chromium: the dashboard of a workspace without orders shows its
empty state (no empty axes); the customer list filters by tag and source, sorts by a column,
and its Export CSV button downloads the filtered list."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from hub.extensions import db
from hub.models import Customer, CustomerTag, Tag
from tests.e2e.test_admin_browser import shot, sign_in
from tests.support.ui import make_user

pytestmark = [pytest.mark.browser]


def test_dashboard_of_an_empty_workspace_shows_what_to_do(
    app, live_server, page, workspace, screenshots
):
    make_user(workspace, "admin@acme.test")
    sign_in(page, live_server, "admin@acme.test")
    page.goto(live_server + "/dashboard", timeout=60_000)
    empty = page.locator("[data-test=dashboard-empty]")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("bind a store")
    expect(empty).to_contain_text("import an order file")
    assert page.locator(".js-plotly-plot, .chart").count() == 0  # no empty axes
    shot(page, screenshots, "dashboard-empty-workspace")
    empty.locator("a", has_text="bind a store").click()
    expect(page).to_have_url(re.compile(r"/stores$"))


def test_customer_filters_sorting_and_export_button(app, live_server, page, workspace, tmp_path):
    people = [("Ann", "youzan", 30, True), ("Bob", "tmall", 10, True), ("Cy", "youzan", 20, False)]
    vip = Tag(workspace_id=workspace.id, name="VIP")
    db.session.add(vip)
    db.session.flush()
    for name, source, score, tagged in people:
        c = Customer(workspace_id=workspace.id, name=name, original_source=source,
                     activity_score=score)  # fmt: skip
        db.session.add(c)
        db.session.flush()
        if tagged:
            db.session.add(CustomerTag(customer_id=c.id, tag_id=vip.id))
    db.session.commit()
    make_user(workspace, "admin@acme.test")
    sign_in(page, live_server, "admin@acme.test")
    page.goto(live_server + "/customers")
    page.select_option("[data-test=filter-tag]", "VIP")
    page.select_option("[data-test=filter-source]", label="Youzan")  # the display name
    page.click("[data-test=customer-filters] button[type=submit]")
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    expect(page.locator("table.table tbody")).to_contain_text("Ann")
    page.goto(live_server + "/customers")
    page.click("a[data-sort=score]")
    expect(page.locator("table.table tbody tr").first).to_contain_text("Bob")  # 10 first
    page.click("a[data-sort=score]")  # again: descending
    expect(page.locator("table.table tbody tr").first).to_contain_text("Ann")
    page.select_option("[data-test=filter-tag]", "VIP")
    page.click("[data-test=customer-filters] button[type=submit]")
    with page.expect_download() as info:
        page.click("[data-test=export-csv]")
    download = info.value
    assert download.suggested_filename == "customers.csv"
    raw = tmp_path / "customers.csv"
    download.save_as(raw)
    data = raw.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["id", "name"]
    assert [r[1] for r in rows[1:]] == ["Ann", "Bob"]  # the filter (VIP) and the sort (-score)
