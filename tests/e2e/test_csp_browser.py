"""The pages under the Content-Security-Policy in Chromium: the dashboard's plotly charts draw,
the sync page's progress bar, the auto-submitting store filter, confirm prompts and the API
token page work, and the browser reports no CSP violation anywhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hub.extensions import db
from hub.sync import service
from tests.e2e.test_admin_browser import shot, sign_in
from tests.support.sample_shop import load_sample_shop
from tests.support.ui import make_user, seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RANGE = "?start=2024-01-01&end=2024-06-29"
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP report the browser makes collected (events and console)."""
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    page.add_init_script(WATCH_VIOLATIONS)
    yield page, console


def violations(page, console: list[str]) -> list[str]:
    reported = page.evaluate("window.__cspViolations || []")
    return reported + [m for m in console if "Content Security Policy" in m or "page error" in m]


def test_dashboard_charts_render_under_the_csp(app, live_server, watched, workspace, screenshots):
    page, console = watched
    load_sample_shop(db.session, workspace.id, orders=300, customers=90, seed=5)
    make_user(workspace, "admin@acme.test")
    response = page.goto(live_server + "/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in(page, live_server, "admin@acme.test")
    page.goto(live_server + "/dashboard" + RANGE)
    charts = page.locator("[data-figure]")
    expect(charts.first.locator("svg.main-svg").first).to_be_visible()
    for n in range(charts.count()):
        expect(charts.nth(n).locator(".plot-container")).to_have_count(1)
    expect(page.locator("#chart-revenue .scatterlayer .trace").first).to_be_attached()
    expect(page.locator("#chart-revenue .gtitle")).to_have_text("Revenue over time")
    page.hover("#chart-revenue")
    expect(page.locator("#chart-revenue .modebar")).to_be_attached()
    shot(page, screenshots, "30-dashboard-under-csp")
    assert violations(page, console) == [], "\n".join(violations(page, console))


def test_admin_pages_work_under_the_csp(
    app, live_server, watched, workspace, tmp_path, screenshots
):
    page, console = watched
    mine = seed(workspace, tmp_path)
    make_user(workspace, "admin@acme.test")
    with app.test_request_context():
        run = service.request_sync(workspace.id, mine.connection_id)
    sign_in(page, live_server, "admin@acme.test")
    page.goto(f"{live_server}/syncs/{run.id}")
    expect(page.locator("#run-bar")).to_have_attribute("style", re.compile(r"width: \d+%"))
    page.goto(live_server + "/syncs")
    page.select_option("select[name=store]", str(mine.connection_id))
    expect(page).to_have_url(re.compile(rf"store={mine.connection_id}"))
    pages = ["/stores", f"/stores/{mine.connection_id}", "/stores/bind/fake", "/inbox",
             "/customers", f"/customers/{mine.customer_id}", "/orders", f"/orders/{mine.order_id}",
             "/products", "/tags", "/merges", "/imports", "/imports/new", "/settings/events",
             "/settings/fields"]  # fmt: skip
    for path in pages:
        page.goto(live_server + path)
        expect(page.locator("h1")).to_be_visible()
    api_tokens(page, live_server, screenshots)
    assert violations(page, console) == [], "\n".join(violations(page, console))


def api_tokens(page, base: str, screenshots) -> None:
    page.goto(base + "/stores")
    page.click("[data-nav=tokens]")
    page.fill("#token-name", "nightly export")
    page.select_option("#token-role", "analyst")
    page.click("[data-test=token-form] button[type=submit]")
    value = page.locator("[data-test=token-value]").inner_text()
    assert value.startswith("trb_")
    row = page.locator("[data-test=api-tokens] tbody tr").first
    expect(row).to_contain_text("nightly export")
    expect(row).to_contain_text("analyst")
    shot(page, screenshots, "31-api-tokens")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Revoke')").click()
    expect(page.locator(".flash-success")).to_contain_text("revoked")
    page.goto(base + "/settings/tokens")
    expect(page.locator("main")).not_to_contain_text(value)


def test_sign_out_everywhere_from_the_header(app, live_server, watched, workspace):
    """The header's button asks first (a confirm prompt, no inline script), then ends the
    session on the server: the cookie the browser held before is refused when put back."""
    page, console = watched
    make_user(workspace, "admin@acme.test")
    sign_in(page, live_server, "admin@acme.test")
    held = page.context.cookies()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-test=sign-out-everywhere]")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator(".flash-info")).to_contain_text("signed out on every device")
    page.context.clear_cookies()
    page.context.add_cookies(held)  # a copy of the cookie from before signing out
    page.goto(live_server + "/customers")
    expect(page).to_have_url(re.compile(r"/login"))
    assert violations(page, console) == [], "\n".join(violations(page, console))
