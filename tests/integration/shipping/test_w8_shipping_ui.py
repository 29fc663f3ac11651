"""W8 in the UI: "Ship" on the order page (the carrier list from the platform, a CSRF form)
and "Ship selected" on the orders list (a carrier and a waybill per order, a result per
order), against the Youzan sandbox over real HTTP. Only orders a bound store can ship are
offered; a refusal is shown in plain words."""

from __future__ import annotations

import re

from hub.services import connections
from tests.integration.shipping.conftest import order_of
from tests.integration.shipping.test_w8_shipping_youzan import awaiting, shipped_on_shop
from tests.support.ui import browser, csrf_token, login, make_user


def _signed_in(app, workspace, role: str = "admin"):
    make_user(workspace, f"{role}@acme.test", role=role)
    ui = browser(app)
    assert login(ui, f"{role}@acme.test").status_code == 302
    return ui


def test_w8_ui_ship_from_the_order_page(app, workspace, youzan, youzan_store):
    (order,) = awaiting(youzan, youzan_store, 1)
    ui = _signed_in(app, workspace)
    html = ui.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-test="ship-form"' in html
    assert '<option value="7">顺丰速运</option>' in html  # the platform's carrier list
    got = ui.post(
        f"/orders/{order.id}/ship",
        data={"csrf_token": csrf_token(html), "carrier": "7", "waybill": "SF-UI-1"},
        follow_redirects=True,
    )
    html = got.get_data(as_text=True)
    assert "waybill SF-UI-1" in html and 'data-test="shipments"' in html
    assert 'data-test="ship-form"' not in html  # shipped: nothing left to ship
    assert order_of(workspace.id, order.external_id).status == "shipped"
    assert shipped_on_shop(youzan, order.external_id)[0]["waybill"] == "SF-UI-1"


def test_w8_ui_refusal_in_plain_words(app, workspace, youzan, youzan_store):
    (order,) = awaiting(youzan, youzan_store, 1)
    youzan.control(f"orders/{order.external_id}/after_sale")
    ui = _signed_in(app, workspace)
    html = ui.get(f"/orders/{order.id}").get_data(as_text=True)
    got = ui.post(
        f"/orders/{order.id}/ship",
        data={"csrf_token": csrf_token(html), "carrier": "7", "waybill": "SF-2"},
        follow_redirects=True,
    )
    text = got.get_data(as_text=True)
    assert "Not shipped" in text and "after-sale" in text
    bad = ui.post(
        f"/orders/{order.id}/ship",
        data={"csrf_token": csrf_token(html), "carrier": "7", "waybill": "no way"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "waybill: no way is not a waybill number" in bad
    assert shipped_on_shop(youzan, order.external_id) == []


def test_w8_ui_ship_selected_with_a_result_per_order(app, workspace, youzan, youzan_store):
    a, b = awaiting(youzan, youzan_store, 2)
    youzan.control(f"orders/{b.external_id}/after_sale")
    ui = _signed_in(app, workspace)
    html = ui.get("/orders?status=paid").get_data(as_text=True)
    assert 'data-test="ship-selected"' in html
    assert f'name="order" value="{a.id}"' in html and f'name="order" value="{b.id}"' in html
    form = ui.post(
        "/orders/ship-selected",
        data={"csrf_token": csrf_token(html), "order": [str(a.id), str(b.id)]},
    ).get_data(as_text=True)
    assert form.count('data-test="ship-row"') == 2 and "中通快递" in form
    done = ui.post(
        "/orders/ship-batch",
        data={
            "csrf_token": csrf_token(form),
            "order_id": [str(a.id), str(b.id)],
            "carrier": ["3", "3"],
            "waybill": ["ZT-1", "ZT-2"],
        },
    ).get_data(as_text=True)
    assert "1 of 2 order(s) shipped." in done
    assert len(re.findall(r'data-ok="yes"', done)) == 1 and "after-sale" in done
    assert order_of(workspace.id, a.external_id).status == "shipped"
    assert order_of(workspace.id, b.external_id).status == "paid"


def test_w8_ui_offers_shipping_only_for_bound_stores_and_admins(
    app, workspace, youzan, youzan_store
):
    (order,) = awaiting(youzan, youzan_store, 1)
    analyst = _signed_in(app, workspace, role="analyst")
    assert 'data-test="ship-form"' not in analyst.get(f"/orders/{order.id}").get_data(as_text=True)
    connections.unbind(workspace.id, youzan_store.id)
    ui = _signed_in(app, workspace)
    html = ui.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-test="ship-form"' not in html
    assert 'data-test="ship-selected"' not in ui.get("/orders").get_data(as_text=True)
    got = ui.post(
        f"/orders/{order.id}/ship",
        data={"csrf_token": csrf_token(html), "carrier": "7", "waybill": "SF-9"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "no longer bound" in got
