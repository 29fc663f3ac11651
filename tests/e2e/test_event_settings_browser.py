"""Issue 22.3 in Chromium: the event settings page applies the settings to existing
customers after a confirmation that says how many; dismissing it changes nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hub.core import ingest
from hub.extensions import db
from hub.models import Customer
from tests.e2e.test_admin_browser import sign_in
from tests.support.orders import order
from tests.support.ui import make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_y10_apply_event_settings_to_existing_customers(app, live_server, page, workspace):
    ingest.apply(
        db.session,
        workspace.id,
        [
            order("A1", identities=[("yz_open_id", "a")]),
            order("B1", identities=[("yz_open_id", "b")]),
        ],
    )
    make_user(workspace, "admin@acme.test")
    sign_in(page, live_server, "admin@acme.test")
    page.goto(live_server + "/settings/events")
    page.select_option("select[name=stage_purchase]", "customer")
    page.fill("input[name=score_purchase]", "10")
    page.fill("input[name=score_first_purchase]", "5")
    page.click("[data-test=event-settings] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Event settings saved")
    button = page.locator("[data-test=apply-existing-button]")
    expect(button).to_have_text("Apply to 2 existing customers")
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    button.click()
    assert asked == ["Recompute the stage and activity score of 2 customers from their events?"]
    db.session.expire_all()
    assert set(db.session.scalars(select(Customer.activity_score))) == {0}
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(page.locator(".flash-success")).to_contain_text("recomputed from the events of 2")
    db.session.expire_all()
    rows = db.session.execute(select(Customer.stage, Customer.activity_score)).all()
    assert sorted(tuple(r) for r in rows) == [("customer", 15), ("customer", 15)]
