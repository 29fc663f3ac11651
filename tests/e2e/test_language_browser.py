"""The Chinese UI in Chromium (issue 22.16): a browser that asks for zh-CN gets the sign-in
page, the customer page and the dashboard in Chinese; the language selector changes the
language of the user who picks it, and only theirs; the sign-in page has its own switch."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_admin_browser import shot
from tests.support.ui import PASSWORD, make_user, seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
# The switch submits a form and the page comes back: on a machine running both suite passes
# that round trip has taken longer than Playwright's default 5 s.
SUBMIT_MS = 20_000


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click(".login form:not(.language) button[type=submit]")
    expect(page).to_have_url(re.compile(r"/stores$"))


def sign_out(page) -> None:
    page.click("form[action$='/logout'] button")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_accept_language_zh_cn_shows_the_pages_in_chinese(
    live_server, page, workspace, tmp_path, screenshots
) -> None:
    make_user(workspace, "li@example.com")
    seeded = seed(workspace, tmp_path)
    page.set_extra_http_headers(ZH)

    page.goto(live_server + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".login")).to_contain_text("登录您的工作区。")
    sign_in(page, live_server, "li@example.com")

    page.goto(f"{live_server}/customers/{seeded.customer_id}")
    expect(page.locator("h1")).to_contain_text("Buyer A")
    expect(page.locator(".crumbs")).to_have_text("客户 ›")
    expect(page.locator("[data-test=tab-timeline]")).to_have_text("时间线")
    expect(page.locator("[data-test=timeline]")).to_contain_text("购买")
    expect(page.locator("nav.sidenav")).to_contain_text("数据看板")
    expect(page.locator("header.topbar")).to_contain_text("退出登录")
    body = page.locator("main").inner_text()
    for english in ("Timeline", "Activity score", "Customer since", "Contact", "Identities"):
        assert english not in body, f"{english!r} is still English on the customer page"
    # identity types and sources in words, not their stored keys (22.5, 22.15)
    identities = page.locator("[data-test=identities]")
    expect(identities).to_contain_text("手机号")
    expect(identities).to_contain_text("有赞 OpenID")
    for key in ("mobile", "yz_open_id"):
        assert key not in identities.inner_text().lower(), f"{key!r} shown as stored"
    shot(page, screenshots, "40-customer-zh")

    page.click("[data-test=tab-orders]")
    expect(page.locator("table.table").first).to_contain_text("订单号")

    # "commit": the page's text is checked first; plotly.js (large) draws the titles after.
    page.goto(live_server + "/dashboard?start=2025-12-01&end=2026-01-31", wait_until="commit")
    expect(page.locator("h1")).to_have_text("数据看板")
    expect(page.locator("main form").first).to_contain_text("应用")
    body = page.locator("main").inner_text()
    for english in ("Dashboard", "Revenue", "Top products", "Apply"):
        assert english not in body, f"{english!r} is still English on the dashboard"
    # the charts' titles are JSON in the page, drawn by dashboard.js
    expect(page.locator("#chart-revenue .gtitle")).to_have_text("销售额走势", timeout=60000)
    shot(page, screenshots, "41-dashboard-zh")


def test_the_switch_changes_the_language_of_that_user_only(
    live_server, page, workspace, tmp_path, screenshots
) -> None:
    make_user(workspace, "li@example.com")
    make_user(workspace, "sam@example.com")
    seed(workspace, tmp_path)
    page.set_extra_http_headers(EN)

    sign_in(page, live_server, "li@example.com")
    expect(page.locator("nav.sidenav")).to_contain_text("Customers")
    page.select_option("[data-test=language]", "zh_CN")  # auto-submits (hub.js)
    expect(page.locator("nav.sidenav")).to_contain_text("客户", timeout=SUBMIT_MS)
    expect(page).to_have_url(re.compile(r"/stores$"))  # back on the page it was picked on
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    shot(page, screenshots, "42-language-switched")
    sign_out(page)

    # Another user of the same workspace, in the same browser, still follows the browser.
    expect(page.locator(".login")).to_contain_text("Sign in to your workspace.")
    sign_in(page, live_server, "sam@example.com")
    expect(page.locator("nav.sidenav")).to_contain_text("Customers")
    expect(page.locator("[data-test=language]")).to_have_value("")
    sign_out(page)

    # The choice lives on the user: it is back at the next sign-in, whatever the browser.
    sign_in(page, live_server, "li@example.com")
    expect(page.locator("nav.sidenav")).to_contain_text("客户")
    expect(page.locator("[data-test=language]")).to_have_value("zh_CN")
    page.select_option("[data-test=language]", "")  # back to the browser's language
    expect(page.locator("nav.sidenav")).to_contain_text("Customers", timeout=SUBMIT_MS)


def test_the_sign_in_page_has_its_own_switch(live_server, page, workspace) -> None:
    make_user(workspace, "li@example.com")
    page.set_extra_http_headers(EN)
    page.goto(live_server + "/stores")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator(".login")).to_contain_text("Sign in to your workspace.")
    page.select_option("[data-test=language]", "zh_CN")
    expect(page.locator(".login")).to_contain_text("登录您的工作区。", timeout=SUBMIT_MS)
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fstores$|/login\?next=/stores$"))
    page.reload()  # kept in the session
    expect(page.locator(".login")).to_contain_text("登录您的工作区。")
    sign_in(page, live_server, "li@example.com")
    expect(page.locator("nav.sidenav")).to_contain_text("客户")  # the user has not chosen
