"""Issue 22.12: "Orders of this store" finds the store's orders by the store (connection) id,
whatever shop name the platform sends with them; a reversed date range says so (a message on
the page, a 400 naming the arguments in the API) instead of being silently empty."""

from __future__ import annotations

import re

from hub.extensions import db
from hub.models import Order
from hub.services import tokens
from tests.support.ui import browser, login, make_user, seed

API = "/api/v1"


def _signed_in(app, workspace, tmp_path):
    seeded = seed(workspace, tmp_path)
    db.session.query(Order).update({Order.store_name: "Platform's own shop name"})
    db.session.commit()
    make_user(workspace, "admin@acme.test")
    ui = browser(app)
    assert login(ui, "admin@acme.test").status_code == 302
    return ui, seeded


def test_orders_of_this_store_follow_the_connection_not_its_name(app, workspace, tmp_path):
    ui, seeded = _signed_in(app, workspace, tmp_path)
    store_page = ui.get(f"/stores/{seeded.connection_id}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)">Orders of this store', store_page)
    assert link, "the store page links to its orders"
    orders_page = ui.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "A-1" in orders_page and "A-2" in orders_page
    assert "Fake store store-A" in orders_page  # the page says which store it shows


def test_the_api_filters_orders_by_connection_id(app, workspace, other_workspace, tmp_path):
    seeded = seed(workspace, tmp_path)
    other = seed(other_workspace, tmp_path, tag="B")
    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 't')[1]}"}
    got = app.test_client().get(f"{API}/orders?connection_id={seeded.connection_id}", headers=auth)
    assert got.status_code == 200
    assert sorted(o["order_no"] for o in got.json["items"]) == ["A-1", "A-2"]
    elsewhere = app.test_client().get(
        f"{API}/orders?connection_id={other.connection_id}", headers=auth
    )
    assert elsewhere.status_code == 200 and elsewhere.json["total"] == 0  # no leak


def test_a_reversed_range_is_a_400_in_the_api(app, workspace, tmp_path):
    seed(workspace, tmp_path)
    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 't')[1]}"}
    got = app.test_client().get(f"{API}/orders?from=2024-06-01&to=2024-05-01", headers=auth)
    assert got.status_code == 400
    error = got.json["error"]
    assert error["field"] == "from" and "reversed" in error["message"]
    assert "2024-06-01" in error["message"] and "2024-05-01" in error["message"]


def test_a_reversed_range_says_so_on_the_orders_page(app, workspace, tmp_path):
    ui, _seeded = _signed_in(app, workspace, tmp_path)
    page = ui.get("/orders?since=2024-06-01&until=2024-05-01")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'data-test="filter-error"' in html and "reversed" in html
    assert 'value="2024-06-01"' in html and 'value="2024-05-01"' in html  # the form is kept
