"""W8 in Chromium: "Ship" on an order page with the carrier list read from the Youzan sandbox,
then "Ship selected" on the orders list, one carrier and waybill per order, with a result per
order (an order in after-sale refused in plain words, the other shipped)."""

from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import expect

from connectors.sandbox_serving import serve
from connectors.youzan.sandbox import create_app, demo_bind_config
from hub.extensions import db
from hub.models import Order, SyncRun
from hub.services import connections
from hub.sync import engine, service
from tests.e2e.test_admin_browser import shot, sign_in
from tests.support.ui import make_user

pytestmark = [pytest.mark.browser]


def _paid_orders(sandbox_url: str, conn, count: int) -> list[Order]:
    tids = requests.post(
        f"{sandbox_url}/_sandbox/orders", json={"count": count, "paid": True}, timeout=30
    ).json()["tids"]
    time.sleep(1.02 - time.time() % 1)  # Youzan times are whole seconds
    run = service.request_sync(conn.workspace_id, conn.id)
    engine.execute(run.id, job_id=run.job_id)
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).status == "succeeded"
    return [db.session.query(Order).filter_by(external_id=t).one() for t in tids]


def test_ship_one_order_then_selected_orders_in_chromium(
    app, live_server, page, workspace, screenshots
):
    running = serve(create_app(seed=8, orders=20))
    try:
        config = {**demo_bind_config(running.url), "sender_mobile": "13800138000"}
        conn = connections.bind(workspace.id, "youzan", config)
        first, second, third = _paid_orders(running.url, conn, 3)
        requests.post(f"{running.url}/_sandbox/orders/{third.external_id}/after_sale", timeout=30)
        make_user(workspace, "admin@acme.test")
        sign_in(page, live_server, "admin@acme.test")

        page.goto(f"{live_server}/orders/{first.id}")
        form = page.locator("[data-test=ship-form]")
        form.locator("select[name=carrier]").select_option(label="顺丰速运")
        form.locator("input[name=waybill]").fill("SF1000200030")
        shot(page, screenshots, "w8-01-ship-form")
        form.locator("[data-test=ship]").click()
        expect(page.locator(".flash-success")).to_contain_text("waybill SF1000200030")
        expect(page.locator("[data-test=shipments]")).to_contain_text("顺丰速运")
        expect(page.locator("h1 .badge")).to_have_text("shipped")
        shot(page, screenshots, "w8-02-shipped")

        page.goto(f"{live_server}/orders?status=paid")
        for order in (second, third):
            page.check(f"input[name=order][value='{order.id}']")
        page.click("[data-test=ship-selected]")
        expect(page).to_have_url(re.compile(r"/orders/ship-selected$"))
        rows = page.locator("[data-test=ship-row]")
        expect(rows).to_have_count(2)
        waybills = {second.order_no: "ZT-2", third.order_no: "ZT-3"}
        for i in range(2):
            row = rows.nth(i)
            row.locator("select[name=carrier]").select_option(label="中通快递")
            row.locator("input[name=waybill]").fill(waybills[row.locator("a").inner_text()])
        page.click("[data-test=ship-batch]")
        expect(page.locator("[data-test=ship-summary]")).to_contain_text("1 of 2")
        refused = page.locator("[data-test=ship-result][data-ok=no]")
        expect(refused).to_contain_text("after-sale")
        expect(page.locator("[data-test=ship-result][data-ok=yes]")).to_contain_text("ZT-2")
        shot(page, screenshots, "w8-03-ship-selected-results")
        shipments = requests.get(f"{running.url}/_sandbox/truth", timeout=30).json()["shipments"]
        assert set(shipments) == {first.external_id, second.external_id}
    finally:
        running.stop()
