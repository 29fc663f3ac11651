"""The admin UI in Chromium: sign in, bind the Youzan sandbox store, sync it and watch the
progress bar, find a customer by phone and read the timeline, filter orders, change sync
settings, unbind, and fail to see any of it from another workspace."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hub.extensions import db
from hub.models import Connection, Customer
from tests.support.ui import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/stores")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/stores$"))


def shot(page, folder, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def bind_sandbox_store(page, base, sandbox, shots) -> int:
    page.click("[data-test=bind-youzan]")
    for key, value in sandbox.bind_config().items():
        page.fill(f"#f_{key}", str(value))
    shot(page, shots, "03-store-bind")
    expect(page.locator("[data-test=bind-sync] input[name=first_sync]")).to_be_checked()
    expect(page.locator("[data-test=bind-sync] input[value=auto]")).to_be_checked()
    page.click("[data-test=bind-form] button[type=submit]")
    # issue 22: the bind starts the first sync, then syncs every 60 minutes
    expect(page.locator(".flash-success")).to_contain_text("is bound and its first sync has")
    watch_run(page, shots)
    db.session.expire_all()
    bound = select(Connection.id).where(Connection.bound_key.is_not(None))
    connection_id = db.session.scalar(bound)
    page.goto(base + "/stores")
    expect(page.locator("table.table").first).to_contain_text("every 60 min")
    return connection_id


def push_url_shown(page, base, connection_id: int, shots) -> None:
    page.goto(f"{base}/stores/{connection_id}")
    url = f"{base}/webhooks/youzan/{connection_id}"
    expect(page.locator("[data-test=push-url-value]")).to_have_text(url)
    expect(page.locator("[data-test=push-url]")).to_contain_text("console.youzanyun.com")
    shot(page, shots, "04-store-detail")


def sync_and_watch(page, shots) -> None:
    page.click("[data-test=sync-now]")
    watch_run(page, shots)


def watch_run(page, shots) -> None:
    expect(page).to_have_url(re.compile(r"/syncs/\d+$"))
    assert page.locator("#run .progress").count() == 1
    expect(page.locator("#run-status .badge")).to_have_text("succeeded", timeout=90000)
    expect(page.locator("#run-bar")).to_have_attribute("style", re.compile(r"width: 100%"))
    expect(page.locator("#run-counts")).not_to_contain_text("Counts appear")
    shot(page, shots, "05-sync-run")


def find_customer_by_phone(page, base, ws_id: int, shots) -> None:
    db.session.expire_all()
    customer = db.session.scalars(
        select(Customer).where(Customer.workspace_id == ws_id, Customer.mobile.is_not(None))
    ).first()
    assert customer is not None, "the sync created no customer with a phone"
    page.goto(base + "/customers")
    shot(page, shots, "06-customers")
    page.fill("[data-test=customer-search]", customer.mobile)
    page.press("[data-test=customer-search]", "Enter")
    page.click(f"a[href='/customers/{customer.id}']")
    expect(page.locator("[data-test=timeline]")).to_contain_text("purchase")
    shot(page, shots, "07-customer-timeline")
    page.fill("[data-test=add-tag] input[name=tag]", "VIP")
    page.click("[data-test=add-tag] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Tag “VIP” added.")
    expect(page.locator("[data-test=customer-tags]")).to_contain_text("VIP")
    shot(page, shots, "07b-customer-tagged")
    page.click("[data-test=tab-orders]")
    expect(page.locator("table.table").first).to_contain_text("Order no")
    shot(page, shots, "08-customer-orders")


def filter_orders(page, base, shots) -> None:
    page.goto(base + "/orders")
    total = page.locator("[data-test=orders] tbody tr").count()
    assert total > 0
    page.select_option("select[name=status]", "completed")
    page.click("[data-test=order-filters] button[type=submit]")
    expect(page).to_have_url(re.compile(r"status=completed"))
    badges = page.locator("[data-test=orders] tbody tr .badge").all_inner_texts()
    assert badges and set(badges) == {"completed"}
    shot(page, shots, "09-orders-filtered")
    page.locator("[data-test=orders] tbody tr a.mono").first.click()
    expect(page.locator("[data-test=lines]")).to_be_visible()
    shot(page, shots, "10-order-detail")


def change_sync_settings(page, base, connection_id: int, shots) -> None:
    page.goto(f"{base}/stores/{connection_id}")
    page.check("input[name=sync_mode][value=auto]")
    page.fill("input[name=sync_interval_minutes]", "120")
    page.click("[data-test=sync-settings] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Sync settings saved")
    db.session.expire_all()
    conn = db.session.get(Connection, connection_id)
    assert (conn.sync_mode, conn.sync_interval_minutes) == ("auto", 120)
    shot(page, shots, "11-store-settings")


def other_pages(page, base, shots) -> None:
    for n, path in enumerate(["/syncs", "/inbox", "/products", "/tags", "/settings/events",
                              "/imports", "/imports/new", "/merges"], start=12):  # fmt: skip
        page.goto(base + path)
        expect(page.locator("h1")).to_be_visible()
        shot(page, shots, f"{n:02d}-{path.strip('/').replace('/', '-')}")


def custom_fields(page, base, shots) -> None:
    page.goto(base + "/settings/fields")
    page.select_option("#kind", "identity")
    page.fill("#name", "member_no")
    page.fill("#label", "Member number")
    page.click("[data-test=field-form] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Identity “member_no” added.")
    expect(page.locator("[data-test=custom-fields]")).to_contain_text("Member number")
    shot(page, shots, "19b-settings-fields")


def unbind(page, base, connection_id: int, shots) -> None:
    page.goto(f"{base}/stores/{connection_id}")
    page.click("[data-test=unbind]")
    name = page.locator("label[for=confirm_name] strong").inner_text()
    page.fill("#confirm_name", name)
    page.click("[data-test=unbind-form] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("is unbound")
    shot(page, shots, "20-stores-after-unbind")


def test_admin_journey_in_chromium(
    app, live_server, worker, youzan_sandbox, page, workspace, other_workspace, screenshots
):
    make_user(workspace, "admin@acme.test")
    make_user(other_workspace, "admin@other.test")
    base = live_server
    page.goto(base + "/login")
    shot(page, screenshots, "01-login")
    sign_in(page, base, "admin@acme.test")
    shot(page, screenshots, "02-stores-empty")
    connection_id = bind_sandbox_store(page, base, youzan_sandbox, screenshots)
    push_url_shown(page, base, connection_id, screenshots)
    sync_and_watch(page, screenshots)
    page.goto(base + "/stores")
    shot(page, screenshots, "04b-stores")
    find_customer_by_phone(page, base, workspace.id, screenshots)
    filter_orders(page, base, screenshots)
    order_url = page.url
    change_sync_settings(page, base, connection_id, screenshots)
    other_pages(page, base, screenshots)
    custom_fields(page, base, screenshots)
    customer_url = base + "/customers/1"
    unbind(page, base, connection_id, screenshots)

    # another workspace's admin sees none of it, and direct URLs are 404
    page.click("button:has-text('Sign out')")
    sign_in(page, base, "admin@other.test")
    expect(page.locator("main")).to_contain_text("No store bound yet")
    for url in (order_url, customer_url, f"{base}/stores/{connection_id}"):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.locator(".errorpage")).to_contain_text("another workspace")
    shot(page, screenshots, "21-other-workspace-404")
    page.goto(base + "/orders")
    expect(page.locator("main")).to_contain_text("No orders yet")
