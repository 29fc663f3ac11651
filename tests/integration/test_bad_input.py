"""Issue 20 point 12, input by input: each answered 500 (JSON internal_error or an HTML page)
and now gets a 4xx in its part's error shape, naming the argument at fault."""

from __future__ import annotations

import json

import pytest

from hub.extensions import db
from hub.models import Connection, WebhookDelivery
from hub.services import connections, tokens
from tests.integration.test_webhook_intake import SECRET, push
from tests.support.bad_input import deep_json
from tests.support.ui import login, make_user, seed

API = "/api/v1"
HUGE_ID = "99999999999999999999"
INT64_MAX = "9223372036854775807"
UNICODE_NUMBERS = ["²", "①", "1²", "١٢", "１２"]


@pytest.fixture
def app_config(app_config: dict) -> dict:
    push_connector = "tests.support.fake_push:FakePushConnector"
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], push_connector]}


@pytest.fixture
def shop(app, workspace, tmp_path):
    make_user(workspace, "admin@acme.test")
    return seed(workspace, tmp_path)


@pytest.fixture
def admin(client, shop):
    assert login(client, "admin@acme.test").status_code == 302
    return client


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}


def api_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field:
        assert error["field"] == field, error
    return error


def page_error(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    assert 'class="errorpage"' in html
    assert all(word in html for word in words), html
    return html


def test_the_largest_page_and_per_page_are_a_400_naming_them(client, auth, admin):
    for path in ("/customers", "/orders", "/products", "/syncs"):
        api_error(client.get(f"{API}{path}?page={INT64_MAX}", headers=auth), 400, "page")
        api_error(client.get(f"{API}{path}?per_page={HUGE_ID}", headers=auth), 400, "per_page")
    for path in ("/customers", "/orders", "/products", "/syncs", "/inbox", "/imports", "/merges"):
        page_error(admin.get(f"{path}?page={INT64_MAX}"), 400, "Page: enter a whole number")
    assert admin.get("/orders?page=2").status_code == 200  # a page past the end is just empty


def test_ids_beyond_64_bits_are_a_404(client, auth, admin, shop):
    for path in ("customers", "orders", "connections", "syncs", "imports"):
        for id_ in (HUGE_ID, INT64_MAX, "2147483648", "2147483647", "١٢"):
            api_error(client.get(f"{API}/{path}/{id_}", headers=auth), 404)
    api_error(client.get(f"{API}/customers/{HUGE_ID}/orders", headers=auth), 404)
    api_error(client.delete(f"{API}/connections/{HUGE_ID}", headers=auth), 404)
    for path in ("customers", "orders", "stores", "syncs", "inbox", "products", "groups"):
        page_error(admin.get(f"/{path}/{HUGE_ID}"), 404)
    page_error(admin.post(f"/customers/{shop.customer_id}/tags/{HUGE_ID}/remove"), 404)
    page_error(admin.post(f"/customers/{HUGE_ID}/groups", data={"group_id": "1"}), 404)


def test_unicode_digits_are_not_numbers_in_query_arguments(client, auth, admin):
    for value in UNICODE_NUMBERS:
        api_error(client.get(f"{API}/customers?page={value}", headers=auth), 400, "page")
        api_error(client.get(f"{API}/orders?per_page={value}", headers=auth), 400, "per_page")
        api_error(client.get(f"{API}/syncs?connection_id={value}", headers=auth), 400,
                  "connection_id")  # fmt: skip
        api_error(client.get(f"{API}/imports?limit={value}", headers=auth), 400, "limit")
        assert client.get(f"{API}/orders?store={value}", headers=auth).json["total"] == 0
        page_error(admin.get(f"/customers?page={value}"), 400, "page")
        page_error(admin.get(f"/syncs?store={value}"), 400, "store")


def test_unicode_digits_are_not_numbers_in_form_fields_and_json(client, auth, admin, shop):
    url = f"{API}/connections/{shop.connection_id}/settings"
    for value in UNICODE_NUMBERS:
        body = {"mode": "auto", "interval_minutes": value}
        error = api_error(client.patch(url, headers=auth, json=body), 400, "interval_minutes")
        assert error["message"] == "Sync interval (minutes): enter a whole number from 30 to 1440."
        form = {"sync_mode": "auto", "sync_interval_minutes": value}
        answer = admin.post(f"/stores/{shop.connection_id}/settings", data=form,
                            follow_redirects=True)  # fmt: skip
        assert "Sync interval (minutes): enter a whole number" in answer.get_data(as_text=True)
        answer = admin.post(f"/customers/{shop.customer_id}/merge", data={"merge_id": value},
                            follow_redirects=True)  # fmt: skip
        assert "Enter the number of the customer" in answer.get_data(as_text=True)
        answer = admin.post("/settings/events", data={"score_purchase": value},
                            follow_redirects=True)  # fmt: skip
        assert "must be a whole number from -1000 to 1000" in answer.get_data(as_text=True)
    assert db.session.get(Connection, shop.connection_id).sync_mode == "manual"


def test_an_id_beyond_64_bits_in_a_form_field_is_no_id(admin, shop):
    answer = admin.post(f"/customers/{shop.customer_id}/merge", data={"merge_id": HUGE_ID},
                        follow_redirects=True)  # fmt: skip
    assert "Enter the number of the customer" in answer.get_data(as_text=True)
    answer = admin.post(f"/customers/{shop.customer_id}/groups", data={"group_id": HUGE_ID},
                        follow_redirects=True)  # fmt: skip
    assert "Choose a group" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31", "0001-01-01",
     "2200-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "2024-02-30", "٢٠٢٤-٠١-٠١T00:00:00Z"],
)  # fmt: skip
def test_out_of_range_times_in_filters_are_a_400(client, auth, admin, value):
    for name in ("from", "to"):
        error = api_error(client.get(f"{API}/orders", query_string={name: value}, headers=auth),
                          400, name)  # fmt: skip
        assert "from 1900-01-01 to 2199-12-31" in error["message"]
    if len(value) == 10:
        page_error(admin.get("/orders", query_string={"since": value}), 400, "since")


def test_the_edges_of_the_range_are_taken(client, auth):
    for value in ("1900-01-01T00:00:00Z", "2199-12-31T23:59:59.999999+00:00", "2199-12-31",
                  "2200-01-01T07:59:59+08:00"):  # fmt: skip
        answer = client.get(f"{API}/orders", query_string={"to": value}, headers=auth)
        assert answer.status_code == 200, value


def test_the_dashboard_over_all_time_is_a_400_naming_the_date(admin):
    page_error(admin.get("/dashboard?start=0001-01-01&end=9999-12-31"), 400,
               "From: enter a date as YYYY-MM-DD, from 1900-01-01 to 2199-12-31.")  # fmt: skip
    page_error(admin.get("/dashboard?start=2024-01-01&end=9999-12-31"), 400, "To: enter a date")
    assert admin.get("/dashboard?start=1900-01-01&end=2199-12-31").status_code == 200


@pytest.mark.parametrize("depth", [100_000, 1_000, 33])
def test_a_deeply_nested_json_body_is_a_400(client, auth, shop, depth):
    body = b'{"platform": "fake", "settings": ' + deep_json(depth) + b"}"
    conn = f"{API}/connections/{shop.connection_id}"
    for method, url in [("POST", f"{API}/connections"), ("PATCH", f"{conn}/settings"),
                        ("PATCH", f"{conn}/credentials")]:  # fmt: skip
        answer = client.open(url, method=method, data=body, headers=auth,
                             content_type="application/json")  # fmt: skip
        error = api_error(answer, 400, "body")
        assert error["message"].startswith("The request body is not JSON we can read: ")
    shallow = b'{"platform": "fake", "settings": ' + deep_json(30) + b"}"
    answer = client.post(f"{API}/connections", data=shallow, headers=auth,
                         content_type="application/json")  # fmt: skip
    assert api_error(answer, 400, "settings")  # read, and refused by the settings' schema


def test_a_deeply_nested_import_mapping_is_a_400(client, auth):
    form = {"kind": "customers", "mapping": "{\"a\": " + "[" * 50_000 + "]" * 50_000 + "}",
            "file": (__import__("io").BytesIO(b"name\nLi\n"), "c.csv")}  # fmt: skip
    answer = client.post(f"{API}/imports", data=form, headers=auth)
    api_error(answer, 400, "mapping")


def test_a_nul_in_a_query_argument_form_field_or_json_string_is_a_400(client, auth, admin):
    api_error(client.get(f"{API}/customers?q=a%00b", headers=auth), 400, "q")
    page_error(admin.get("/customers?q=a%00b"), 400, "q holds a NUL character")
    page_error(admin.post("/tags", data={"name": "a\x00b"}), 400, "name")
    body = {"platform": "fake", "name": "a\x00b", "settings": {}}
    error = api_error(client.post(f"{API}/connections", json=body, headers=auth), 400, "body")
    assert "NUL" in error["message"]


@pytest.fixture
def push_store(workspace):
    settings = {"store_id": "8001", "webhook_secret": SECRET}
    return connections.bind(workspace.id, "fakepush", settings)


def test_anything_but_a_push_under_webhooks_is_a_4xx_in_json(client, push_store):
    store = f"/webhooks/fakepush/{push_store.id}"
    api_error(client.get(store), 405)
    for path in ("/webhooks", "/webhooks/", "/webhooks/fakepush", f"/webhooks/fakepush/{HUGE_ID}",
                 "/webhooks/fakepush/abc", "/webhooks/fakepush/١٢", "/webhooks/nope/1",
                 f"/webhooks/fakepush/{INT64_MAX}", "/webhooks/²/1", f"{store}/more"):  # fmt: skip
        answer = client.get(path)
        api_error(answer, 405 if answer.status_code == 405 else 404)  # 405: a push's address
        api_error(client.post(path, data=b"{}"), 404)
    api_error(client.post(store, data=deep_json(100_000)), 401)  # unsigned: refused as ever
    assert push(client, push_store, "d-1").status_code == 200  # and a real push still lands
    assert db.session.query(WebhookDelivery).count() == 1


def test_an_unexpected_error_under_webhooks_is_json_not_an_html_page(app, client, push_store,
                                                                      monkeypatch):  # fmt: skip
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: no test client re-raising

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr("hub.web.webhooks._connector", broken)
    answer = push(client, push_store, "d-1")
    assert answer.status_code == 500 and answer.mimetype == "application/json"
    assert answer.get_json()["error"]["code"] == "internal_server_error"
    assert "boom" not in answer.get_data(as_text=True)
    assert json.loads(client.get("/webhooks/x").get_data())["error"]["code"] == "not_found"
