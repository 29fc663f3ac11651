"""Issue 22.17: the customer list filters by tag, group, stage and source and sorts by its
columns, the same in the UI and the API (one read layer); customers, orders and an import's
failed rows export as CSV from the list (the current filter) and from the API: streamed,
scoped to the workspace, a header row, UTF-8 with a BOM, money as plain decimals, formulas
neutralised (CSV injection)."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
from decimal import Decimal

import pytest
from sqlalchemy import insert

from hub.extensions import db
from hub.models import Customer, CustomerTag, Group, GroupMember, ImportRun, Order, Tag
from hub.services import tokens
from tests.support.ui import browser, login, make_user, seed

API = "/api/v1"


@pytest.fixture
def people(workspace, other_workspace) -> dict[str, int]:
    """Four customers here, one look-alike elsewhere; tags, a group, stages, sources."""
    rows = {
        "ann": dict(name="Ann", stage="customer", activity_score=30, original_source="youzan"),
        "bob": dict(name="=HYPERLINK(\"http://x\")", stage="lead", activity_score=10,
                    original_source="Spring fair"),
        "cy": dict(name="Cy", stage="customer", activity_score=20, original_source="tmall"),
        "dee": dict(name=None, stage=None, activity_score=0, original_source=None),
    }  # fmt: skip
    ids = {}
    for key, values in rows.items():
        c = Customer(workspace_id=workspace.id, mobile=None, **values)
        db.session.add(c)
        db.session.flush()
        ids[key] = c.id
    elsewhere = Customer(workspace_id=other_workspace.id, name="Ann elsewhere", stage="customer",
                         original_source="youzan")  # fmt: skip
    db.session.add(elsewhere)
    vip = Tag(workspace_id=workspace.id, name="VIP")
    tea = Group(workspace_id=workspace.id, name="Tea lovers")
    db.session.add_all([vip, tea])
    db.session.flush()
    db.session.add_all([
        CustomerTag(customer_id=ids["ann"], tag_id=vip.id),
        CustomerTag(customer_id=ids["bob"], tag_id=vip.id),
        GroupMember(group_id=tea.id, customer_id=ids["bob"]),
        GroupMember(group_id=tea.id, customer_id=ids["cy"]),
    ])  # fmt: skip
    db.session.commit()
    return {**ids, "group": tea.id, "elsewhere": elsewhere.id}


@pytest.fixture
def ui(app, workspace):
    make_user(workspace, "admin@acme.test")
    admin = browser(app)
    assert login(admin, "admin@acme.test").status_code == 302
    return admin


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}


def listed(ui, client, auth, params: dict) -> list[int]:
    """The ids the page lists, in order; the API lists the same, in the same order."""
    page = ui.get("/customers", query_string=params)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    html = page.get_data(as_text=True).split("<tbody>")[-1]
    on_page = [int(n) for n in re.findall(r'href="/customers/(\d+)"', html)]
    answer = client.get(f"{API}/customers", headers=auth, query_string=params)
    assert answer.status_code == 200, answer.get_json()
    assert [item["id"] for item in answer.get_json()["items"]] == on_page, params
    return on_page


@pytest.mark.parametrize(
    ("params", "who"),
    [
        ({"tag": "VIP"}, {"ann", "bob"}),
        ({"tag": "vip"}, {"ann", "bob"}),  # a tag in any case
        ({"group": "Tea lovers"}, {"bob", "cy"}),  # a group by name
        ({"stage": "customer"}, {"ann", "cy"}),
        ({"source": "YOUZAN"}, {"ann"}),  # a source in any case
        ({"source": "spring fair"}, {"bob"}),
        ({"tag": "vip", "stage": "customer"}, {"ann"}),
        ({"tag": "nobody"}, set()),
    ],
)
def test_customer_list_filters_alike_in_the_ui_and_the_api(ui, client, auth, people, params, who):
    assert set(listed(ui, client, auth, params)) == {people[w] for w in who}


def test_customer_list_filters_by_group_id(ui, client, auth, people):
    assert set(listed(ui, client, auth, {"group": people["group"]})) == {
        people["bob"],
        people["cy"],
    }


def test_customer_list_sorts_by_its_columns(ui, client, auth, people):
    p = people
    assert listed(ui, client, auth, {"sort": "score"}) == [p["dee"], p["bob"], p["cy"], p["ann"]]
    assert listed(ui, client, auth, {"sort": "-score"}) == [p["ann"], p["cy"], p["bob"], p["dee"]]
    # names: blanks last in either direction, on SQLite as on PostgreSQL
    assert listed(ui, client, auth, {"sort": "name"}) == [p["bob"], p["ann"], p["cy"], p["dee"]]
    assert listed(ui, client, auth, {"sort": "-name"}) == [p["cy"], p["ann"], p["bob"], p["dee"]]
    assert listed(ui, client, auth, {"sort": "created"})[0] == p["ann"]
    html = ui.get("/customers?sort=name").get_data(as_text=True)
    assert 'href="/customers?sort=-name"' in html  # the header link flips the direction


def test_an_unknown_sort_is_refused_naming_the_field(ui, client, auth, people):
    answer = client.get(f"{API}/customers?sort=password", headers=auth)
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "sort"
    assert ui.get("/customers?sort=password").status_code == 400


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_customers_export_the_filtered_list_in_the_ui_and_the_api(ui, client, auth, people):
    page = ui.get("/customers?tag=VIP&sort=name").get_data(as_text=True)
    button = re.search(r'href="([^"]+)" data-test="export-csv"', page)
    assert button, "an export button on the list"
    from_ui = _csv(ui.get(button.group(1).replace("&amp;", "&")))
    from_api = _csv(client.get(f"{API}/customers.csv?tag=VIP&sort=name", headers=auth))
    assert from_ui == from_api
    header, *rows = from_api
    assert header[:3] == ["id", "name", "mobile"] and "tags" in header
    assert [int(r[0]) for r in rows] == [people["bob"], people["ann"]]  # filtered and sorted
    assert rows[0][1] == '\'=HYPERLINK("http://x")'  # a formula is neutralised
    assert rows[1][header.index("tags")] == "VIP"


def test_customers_export_stays_in_the_workspace(client, auth, people):
    rows = _csv(client.get(f"{API}/customers.csv", headers=auth))[1:]
    assert {int(r[0]) for r in rows} == {people[k] for k in ("ann", "bob", "cy", "dee")}


def test_orders_export_with_plain_money_and_the_filter(app, ui, client, auth, workspace,
                                                       other_workspace, tmp_path):  # fmt: skip
    seed(workspace, tmp_path)
    seed(other_workspace, tmp_path, tag="B")
    db.session.query(Order).filter(Order.order_no == "A-2").update(
        {Order.store_name: "@SUM(1+1)", Order.amount_paid: Decimal("1234567.50")}
    )
    db.session.commit()
    header, *rows = _csv(client.get(f"{API}/orders.csv", headers=auth))
    assert sorted(r[header.index("order_no")] for r in rows) == ["A-1", "A-2"]  # scoped
    second = next(r for r in rows if r[header.index("order_no")] == "A-2")
    assert second[header.index("amount_paid")] == "1234567.50"  # no grouping, no currency
    assert second[header.index("store_name")] == "'@SUM(1+1)"
    assert second[header.index("ordered_at")].endswith("+00:00")
    page = ui.get("/orders?order_no=A-1").get_data(as_text=True)
    button = re.search(r'href="([^"]+)" data-test="export-csv"', page)
    assert button and "order_no=A-1" in button.group(1)
    filtered = _csv(ui.get(button.group(1).replace("&amp;", "&")))[1:]
    assert [r[header.index("order_no")] for r in filtered] == ["A-1"]


def test_import_failures_export_as_csv(ui, client, auth, workspace, other_workspace, tmp_path):
    failures = tmp_path / "failures.csv"
    failures.write_text("Mobile,Name,reason\n+8613900001111,李雷,Mobile: not a mobile\n",
                        encoding="utf-8")  # fmt: skip
    run = ImportRun(workspace_id=workspace.id, kind="customers", status="succeeded",
                    failure_path=str(failures), failed=1)  # fmt: skip
    theirs = ImportRun(workspace_id=other_workspace.id, kind="customers", status="succeeded",
                       failure_path=str(failures), failed=1)  # fmt: skip
    db.session.add_all([run, theirs])
    db.session.commit()
    rows = _csv(client.get(f"{API}/imports/{run.id}/failures.csv", headers=auth))
    assert rows == [
        ["Mobile", "Name", "reason"],
        ["'+8613900001111", "李雷", "Mobile: not a mobile"],
    ]
    page = ui.get("/imports").get_data(as_text=True)
    assert f'data-test="failures-csv-{run.id}"' in page
    assert _csv(ui.get(f"/imports/{run.id}/failures.csv")) == rows
    assert client.get(f"{API}/imports/{theirs.id}/failures.csv", headers=auth).status_code == 404
    assert ui.get(f"/imports/{theirs.id}/failures.csv").status_code == 404


def _add_customers(workspace_id: int, start: int, count: int) -> None:
    db.session.execute(
        insert(Customer),
        [
            {
                "workspace_id": workspace_id,
                "name": f"Customer {n:06d} 顾客",
                "mobile": f"139{n:08d}",
                "email": f"c{n}@example.com",
                "activity_score": n,
                "original_source": "youzan",
                "properties": {},
            }  # fmt: skip
            for n in range(start, start + count)
        ],
    )
    db.session.commit()


def _streamed_peak(client, auth) -> tuple[int, int]:
    """(peak bytes allocated while the export is read, bytes sent)."""
    response = client.get(f"{API}/customers.csv", headers=auth)
    assert response.is_streamed
    tracemalloc.start()
    try:
        sent = sum(len(chunk) for chunk in response.response)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    return peak, sent


def test_the_export_is_streamed_in_constant_memory(client, auth, workspace):
    _add_customers(workspace.id, 0, 600)
    _streamed_peak(client, auth)  # warm the caches (compiled statements, imports)
    small_peak, small_sent = _streamed_peak(client, auth)
    _add_customers(workspace.id, 600, 8400)
    peak, sent = _streamed_peak(client, auth)
    assert sent > 14 * small_sent  # fifteen times the rows went out...
    assert peak < 2 * small_peak + 512 * 1024, (small_peak, peak)  # ...in the same memory
    assert peak < sent, (peak, sent)  # and less than the file: never held whole


def test_orders_sort_by_their_columns_in_the_ui_and_the_api(ui, client, auth, workspace, tmp_path):
    seed(workspace, tmp_path)  # A-1 paid 120.00, A-2 paid 80.00 less a 30.00 refund
    by_paid = client.get(f"{API}/orders?sort=paid", headers=auth).get_json()["items"]
    assert [o["order_no"] for o in by_paid] == ["A-2", "A-1"]
    by_paid_desc = client.get(f"{API}/orders?sort=-paid", headers=auth).get_json()["items"]
    assert [o["order_no"] for o in by_paid_desc] == ["A-1", "A-2"]
    html = ui.get("/orders?sort=paid&status=completed&status=paid").get_data(as_text=True)
    assert html.index(">A-2<") < html.index(">A-1<")
    link = re.search(r'href="([^"]+)" data-sort="paid"', html).group(1).replace("&amp;", "&")
    assert "sort=-paid" in link and "status=completed" in link and "status=paid" in link
    refused = client.get(f"{API}/orders?sort=secret", headers=auth)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "sort"
