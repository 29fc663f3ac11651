"""One read layer (issue 21.3): the admin pages and the JSON API answer the same for the same
filters, because both ask ``hub.queries``. The behaviour pinned here is the one a merchant
expects from one search box and one order filter:

- customers: a case-insensitive substring of the name or the e-mail, a mobile number written
  any way (+86, spaces, dashes) or part of one, an identity value pasted whole;
- orders: the order number whole or its beginning in either case, one or more statuses
  (comma-separated or repeated), the source or sales channel in either case, a store, a range;
- every answer stays inside the asking workspace.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hub.core import ingest
from hub.extensions import db
from hub.models import Customer, Order
from hub.services import tokens
from tests.support.orders import T0, order
from tests.support.ui import browser, login, make_user

API = "/api/v1"
UNION_ID = "oUnion-ABC123"


def _record(ext, *, status, days, source, channel, store, name, mobile, email, union_id):
    rec = order(
        ext,
        status=status,
        source=source,
        at=T0 + timedelta(days=days),
        name=name,
        identities=[("yz_open_id", f"open-{ext}"), ("union_id", union_id)],
    )
    rec.store_id, rec.store_name, rec.sales_channel = store, f"Shop {store}", channel
    rec.buyer.mobile, rec.buyer.email = mobile, email
    return rec


@pytest.fixture
def shop(workspace, other_workspace) -> dict[str, int]:
    """Han Meimei (one order) and Li Lei (two orders) here; a look-alike of Han Meimei with the
    same mobile, e-mail and union id in the other workspace."""
    han = dict(name="Han Meimei", mobile="13900001111", email="meimei.han@teahouse.cn",
               union_id=UNION_ID)  # fmt: skip
    li = dict(name="Li Lei", mobile="13900002222", email="lilei@leaf.cn", union_id="oUnion-LI")
    ingest.apply(db.session, workspace.id, [
        _record("YZ-1001", status="paid", days=0, source="youzan", channel="WeChat Mini Shop",
                store="s1", **han),
        _record("YZ-1002", status="shipped", days=10, source="youzan", channel="Youzan",
                store="s1", **li),
        _record("TM-2001", status="completed", days=20, source="tmall", channel="Tmall",
                store="s2", **li),
    ])  # fmt: skip
    ingest.apply(db.session, other_workspace.id, [
        _record("YZ-1003", status="paid", days=5, source="youzan", channel="WeChat Mini Shop",
                store="s1", **{**han, "name": "Han Meimei Elsewhere"}),
    ])  # fmt: skip
    db.session.commit()
    ids = {o.external_id: o.id for o in db.session.query(Order)}
    people = {c.name: c.id for c in db.session.query(Customer)}
    return {**ids, "han": people["Han Meimei"], "li": people["Li Lei"]}


@pytest.fixture
def ui(app, workspace, shop):
    make_user(workspace, "admin@acme.test")
    admin = browser(app)
    assert login(admin, "admin@acme.test").status_code == 302
    return admin


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}


def both(ui, client, auth, path: str, params: dict) -> set[int]:
    """The ids the page lists and the ids the API lists for the same filters; they must agree."""
    page = ui.get(path, query_string=params)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    listed = {int(n) for n in re.findall(rf'href="{path}/(\d+)"', page.get_data(as_text=True))}
    answer = client.get(API + path, headers=auth, query_string={**params, "per_page": 200})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert listed == {item["id"] for item in body["items"]}, (path, params)
    assert body["total"] == len(listed)
    return listed


@pytest.mark.parametrize(
    ("q", "who"),
    [
        ("", {"han", "li"}),
        ("meimei", {"han"}),  # part of the name, any case
        ("MEIMEI", {"han"}),
        ("teahouse", {"han"}),  # part of the e-mail
        ("MeiMei.Han@TeaHouse.CN", {"han"}),
        ("+86 139-0000-1111", {"han"}),  # the mobile written any way
        ("0000 2222", {"li"}),  # part of the mobile, with a space
        ("13900001111", {"han"}),
        (UNION_ID, {"han"}),  # an identity pasted whole
        ("oUnion", set()),  # identities are matched whole, not by a piece
        ("%", set()),  # LIKE's wildcards are literal
        ("_", set()),
        ("nobody", set()),
    ],
)
def test_customer_search_is_the_same_in_the_ui_and_the_api(ui, client, auth, shop, q, who):
    assert both(ui, client, auth, "/customers", {"q": q}) == {shop[w] for w in who}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"YZ-1001", "YZ-1002", "TM-2001"}),
        ({"order_no": "YZ-1001"}, {"YZ-1001"}),  # the number whole
        ({"order_no": "yz-100"}, {"YZ-1001", "YZ-1002"}),  # its beginning, any case
        ({"order_no": "1001"}, set()),  # not a piece from the middle
        ({"order_no": "YZ%"}, set()),
        ({"status": "paid"}, {"YZ-1001"}),
        ({"status": "paid,shipped"}, {"YZ-1001", "YZ-1002"}),  # several, comma-separated
        ({"status": ["paid", "completed"]}, {"YZ-1001", "TM-2001"}),  # or repeated
        ({"source": "TMALL"}, {"TM-2001"}),  # the platform, any case
        ({"source": "wechat mini shop"}, {"YZ-1001"}),  # or the sales channel
        ({"store": "s2"}, {"TM-2001"}),  # a platform store id
        ({"store": "Shop s1"}, {"YZ-1001", "YZ-1002"}),  # or its name
        ({"since": "2026-01-05", "until": "2026-01-15"}, {"YZ-1002"}),  # the pages' names
        ({"from": "2026-01-05", "to": "2026-01-15"}, {"YZ-1002"}),  # the API's names
        ({"from": "2026-01-11T08:00:00+08:00"}, {"YZ-1002", "TM-2001"}),  # inclusive
        ({"status": "paid,shipped", "source": "youzan", "order_no": "yz"}, {"YZ-1001", "YZ-1002"}),
    ],
)
def test_order_filter_is_the_same_in_the_ui_and_the_api(ui, client, auth, shop, params, expected):
    assert both(ui, client, auth, "/orders", params) == {shop[e] for e in expected}


def test_reads_stay_in_the_workspace_in_the_ui_and_the_api(ui, client, auth, shop):
    """The look-alike in the other workspace shares the mobile, the e-mail and the union id."""
    for q in (UNION_ID, "13900001111", "meimei.han@teahouse.cn", "Elsewhere"):
        assert both(ui, client, auth, "/customers", {"q": q}) <= {shop["han"]}
    assert both(ui, client, auth, "/orders", {"order_no": "YZ-1003"}) == set()
    assert both(ui, client, auth, "/orders", {"status": "paid"}) == {shop["YZ-1001"]}


def test_an_unknown_status_is_refused_alike_naming_the_field(ui, client, auth):
    answer = client.get(f"{API}/orders?status=paid,lost", headers=auth)
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "status"
    page = ui.get("/orders?status=paid,lost")
    assert page.status_code == 400 and "is not an order status; choose from" in page.get_data(
        as_text=True
    )


def test_the_orders_page_shows_several_statuses_chosen(ui, shop):
    html = ui.get("/orders", query_string={"status": ["paid", "shipped"]}).get_data(as_text=True)
    chosen = set(re.findall(r'<option value="(\w+)" selected', html))
    assert chosen == {"paid", "shipped"}


def test_paging_links_keep_every_chosen_status(ui, workspace, shop):
    more = [order(f"P-{n}", status="paid", at=T0 + timedelta(hours=n)) for n in range(30)]
    ingest.apply(db.session, workspace.id, more)
    db.session.commit()
    html = ui.get("/orders", query_string={"status": ["paid", "shipped"]}).get_data(as_text=True)
    following = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert following, "a second page"
    link = following.group(1).replace("&amp;", "&")
    assert "status=paid" in link and "status=shipped" in link and "page=2" in link
    second = ui.get(link).get_data(as_text=True)
    assert len(set(re.findall(r'href="/orders/(\d+)"', second))) == 32 - 25  # 31 paid, 1 shipped


READ_MODELS = {
    *("Customer", "Identity", "Order", "OrderLine", "OrderRefund", "Event", "Product"),
    *("SyncRun", "WebhookDelivery", "ImportRun", "MergeLedger", "Tag", "Group", "EventSetting"),
}


def test_no_read_query_is_written_in_the_web_layer():
    """The pages and the API read these through hub.queries; a SELECT of one of them in
    hub/web is a second read path that can drift from the first."""
    import ast
    from pathlib import Path

    import hub.web

    found = []
    for path in Path(hub.web.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "select":
                names = {
                    n.id for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Name)
                }
                if names & READ_MODELS:
                    found.append(f"{path.name}:{node.lineno}")
    assert not found, f"read queries outside hub/queries: {found}"
