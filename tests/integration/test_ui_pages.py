"""Admin pages through the Flask test client: what they show and what their forms change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.crypto import MASK, decrypt_json
from hub.extensions import db
from hub.models import Connection, EventSetting, Group, MergeLedger, Tag
from tests.support.ui import login, make_user, seed


@pytest.fixture
def shop(app, workspace, tmp_path):
    make_user(workspace, "admin@acme.test")
    return seed(workspace, tmp_path, tag="A")


@pytest.fixture
def admin(client, shop):
    login(client, "admin@acme.test")
    return client


def test_every_main_page_renders(admin, shop):
    pages = ["/stores", f"/stores/{shop.connection_id}", "/syncs", "/inbox", "/customers",
             f"/customers/{shop.customer_id}", f"/customers/{shop.customer_id}?tab=orders",
             "/merges", "/orders", f"/orders/{shop.order_id}", "/products", "/tags",
             "/settings/events", "/imports", "/imports/new", "/stores/bind/fake"]  # fmt: skip
    for page in pages:
        resp = admin.get(page)
        assert resp.status_code == 200, page
        assert b'href="/dashboard"' in resp.data, page  # the shared navigation


def test_empty_states_say_what_to_do(client, workspace):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    assert b"No customers yet" in client.get("/customers").data
    assert b"Bind a store and sync it" in client.get("/orders").data
    assert b"No store bound yet" in client.get("/stores").data
    assert b"No sync has run yet" in client.get("/syncs").data


def test_y9_customer_found_by_phone_shows_timeline_and_orders(admin, shop):
    resp = admin.get("/customers", query_string={"q": "+86 139-0000-1111"})
    assert b"Buyer A" in resp.data
    detail = admin.get(f"/customers/{shop.customer_id}").get_data(as_text=True)
    assert "purchase" in detail and "return" in detail  # Y7 events on the timeline
    assert "yz-A" in detail  # identities
    orders_tab = admin.get(f"/customers/{shop.customer_id}?tab=orders").get_data(as_text=True)
    assert "A-1" in orders_tab and "A-2" in orders_tab
    assert b"No customer matches" in admin.get("/customers?q=nobody-here").data


def test_s1_order_filters(admin, shop):
    def listed(**q):
        html = admin.get("/orders", query_string=q).get_data(as_text=True)
        return {n for n in ("A-1", "A-2") if f">{n}<" in html}

    assert listed() == {"A-1", "A-2"}
    assert listed(order_no="A-2") == {"A-2"}
    assert listed(since="2026-01-02") == {"A-2"}
    assert listed(until="2026-01-01") == {"A-1"}
    assert listed(store="Fake Store") == {"A-1", "A-2"}
    assert listed(store="Another Store") == set()
    assert listed(source="Fake") == {"A-1", "A-2"}
    assert listed(source="WeChat Mini Shop") == set()
    assert listed(status="closed") == set()


def test_order_page_shows_lines_refunds_and_events(admin, shop):
    html = admin.get("/orders?order_no=A-2").get_data(as_text=True)
    order_id = int(html.split('href="/orders/')[1].split('"')[0])
    page = admin.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Tea 0" in page and "Tea 1" in page
    assert "30.00" in page  # the refund
    assert "return" in page and "purchase" in page


def test_y1_bind_from_schema_masks_secrets_and_keeps_them(admin, app, tmp_path):
    data = tmp_path / "new.json"
    data.write_text("[]")
    form = admin.get("/stores/bind/fake").get_data(as_text=True)
    assert 'type="password" name="api_key"' in form
    resp = admin.post(
        "/stores/bind/fake", data={"store_id": "NEW1", "api_key": "s3cret", "data_file": str(data)}
    )
    assert resp.status_code == 302
    conn = db.session.scalar(select(Connection).where(Connection.external_id == "NEW1"))
    assert decrypt_json(conn.credentials_enc) == {"api_key": "s3cret"}
    page = admin.get(f"/stores/{conn.id}").get_data(as_text=True)
    assert "s3cret" not in page and MASK in page
    # sent back unchanged, the mask keeps the stored secret
    admin.post(
        f"/stores/{conn.id}/credentials",
        data={"store_id": "NEW1", "api_key": MASK, "data_file": str(data)},
    )
    db.session.expire_all()
    assert decrypt_json(db.session.get(Connection, conn.id).credentials_enc) == {
        "api_key": "s3cret"
    }
    # a second bind of the same store is refused with a clear error
    again = admin.post(
        "/stores/bind/fake",
        follow_redirects=True,
        data={"store_id": "NEW1", "api_key": "x", "data_file": str(data)},
    )
    assert b"already bound" in again.data


def test_bind_errors_name_the_field(admin):
    resp = admin.post("/stores/bind/fake", data={"store_id": "X", "api_key": "k"})
    assert resp.status_code == 200
    assert b"data_file" in resp.data and b"need attention" in resp.data
    bad = admin.post(
        "/stores/bind/fake", data={"store_id": "X", "api_key": "bad", "data_file": "/tmp/x"}
    )
    assert b"refused api_key" in bad.data


def test_y5_sync_settings(admin, shop):
    url = f"/stores/{shop.connection_id}/settings"
    admin.post(url, data={"sync_mode": "auto", "sync_interval_minutes": "45"})
    conn = db.session.get(Connection, shop.connection_id)
    db.session.refresh(conn)
    assert (conn.sync_mode, conn.sync_interval_minutes) == ("auto", 45)
    resp = admin.post(
        url, data={"sync_mode": "auto", "sync_interval_minutes": "10"}, follow_redirects=True
    )
    assert b"enter a whole number from 30 to 1440" in resp.data
    admin.post(url, data={"sync_mode": "disabled"})
    db.session.refresh(conn)
    assert conn.sync_mode == "disabled"
    refused = admin.post(f"/stores/{shop.connection_id}/sync", follow_redirects=True)
    assert b"disabled" in refused.data


def test_w1_unbind_needs_the_name_typed(admin, shop):
    url = f"/stores/{shop.connection_id}/unbind"
    assert b"Type the store name" in admin.get(url).data
    admin.post(url, data={"confirm_name": "wrong"})
    conn = db.session.get(Connection, shop.connection_id)
    db.session.refresh(conn)
    assert conn.is_bound
    admin.post(url, data={"confirm_name": conn.name})
    db.session.refresh(conn)
    assert not conn.is_bound
    assert b"A-1" in admin.get("/orders").data  # orders stay


def test_x4_merge_and_undo_from_the_ledger(admin, app, workspace, shop, tmp_path):
    from hub.core import ingest
    from tests.support.orders import order

    ingest.apply(
        db.session, workspace.id, [order("Z-1", identities=[("yz_open_id", "yz-Z")], name="Dup")]
    )
    dup = db.session.scalar(select(MergeLedger.id))
    assert dup is None
    other = admin.get("/customers?q=Dup").get_data(as_text=True)
    dup_id = int(other.split('href="/customers/')[1].split('"')[0])
    admin.post(f"/customers/{shop.customer_id}/merge", data={"merge_id": dup_id, "reason": "same"})
    entry = db.session.scalar(select(MergeLedger))
    assert entry is not None and entry.kept_id == shop.customer_id
    assert b"Dup" not in admin.get("/customers").data  # merged customers leave the list
    admin.post(f"/merges/{entry.id}/undo")
    db.session.refresh(entry)
    assert entry.undone_at is not None
    assert b"Dup" in admin.get("/customers").data


def test_y10_event_settings_saved(admin, workspace):
    resp = admin.post(
        "/settings/events",
        data={"stage_purchase": "customer", "score_purchase": "5", "score_return": "-3"},
    )
    assert resp.status_code == 302
    rows = {s.event_type: (s.advance_to_stage, s.score_delta)
            for s in db.session.scalars(select(EventSetting))}  # fmt: skip
    assert rows["purchase"] == ("customer", 5) and rows["return"] == (None, -3)
    bad = admin.post("/settings/events", data={"score_purchase": "lots"}, follow_redirects=True)
    assert b"whole number" in bad.data


def test_tags_and_groups_created_once(admin, workspace):
    admin.post("/tags", data={"name": "vip"})
    dup = admin.post("/tags", data={"name": "vip"}, follow_redirects=True)
    assert b"already exists" in dup.data
    admin.post("/groups", data={"name": "Spring campaign"})
    assert db.session.scalar(select(Tag.name)) == "vip"
    assert db.session.scalar(select(Group.name)) == "Spring campaign"


def test_sync_progress_json(admin, app, workspace, shop):
    from hub.sync import service

    run = service.request_sync(workspace.id, shop.connection_id)
    data = admin.get(f"/syncs/{run.id}/progress").get_json()
    assert data["status"] == "queued" and data["finished"] is False
    assert b"progressbar" in admin.get(f"/syncs/{run.id}").data


def test_webhook_inbox_lists_and_replays(admin, app, workspace, shop):
    from hub.jobs.queues import WEBHOOKS, queue
    from hub.models import WebhookDelivery

    row = WebhookDelivery(
        workspace_id=workspace.id,
        connection_id=shop.connection_id,
        platform="fake",
        delivery_id="d-1",
        topic="trade.update",
        body=b'{"tid": "A-1"}',
        status="failed",
        error="boom: retry me",
    )
    db.session.add(row)
    db.session.commit()
    page = admin.get(f"/inbox?store={shop.connection_id}").get_data(as_text=True)
    assert "trade.update" in page and "boom: retry me" in page
    assert "A-1" in admin.get(f"/inbox/{row.id}").get_data(as_text=True)
    before = queue(WEBHOOKS).count
    resp = admin.post(f"/inbox/{row.id}/replay", follow_redirects=True)
    assert b"queued for processing again" in resp.data
    db.session.refresh(row)
    assert row.status == "received" and row.error is None
    assert queue(WEBHOOKS).count == before + 1


def test_y3_sync_one_and_sync_all(admin, workspace, shop):
    from hub.models import SyncRun

    resp = admin.post(f"/stores/{shop.connection_id}/sync")
    run = db.session.scalar(select(SyncRun))
    assert resp.headers["Location"] == f"/syncs/{run.id}"
    # a second request joins the run already queued (one sync per store at a time)
    resp = admin.post("/stores/sync-all", follow_redirects=True)
    assert b"1 sync queued." in resp.data
    assert len(db.session.scalars(select(SyncRun)).all()) == 1
    assert f"/syncs/{run.id}".encode() in admin.get(f"/syncs?store={shop.connection_id}").data


def test_y5_store_form_offers_the_interval_bounds_the_service_takes(admin, shop):
    page = admin.get(f"/stores/{shop.connection_id}").get_data(as_text=True)
    assert 'min="30" max="1440" step="1" class="short" value="60"' in page
    assert "minutes (30–1440)" in page


ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_stored_keys_show_in_words_on_the_product_and_run_pages(admin, workspace, shop):
    """22.15/22.16: a product's status and properties, and a run's counts, in (Chinese) words —
    no stored key, no Python list or dict."""
    from hub.models import Product, SyncRun

    skus = [{"sku_id": "20000000000001000", "sale_price": "196.80", "stock_num": 451}]
    properties = {"spu_status": 5, "skus": skus, "groups": ["Tea", "Gifts"],
                  "head_img": ["https://img.example/1.jpg"], "first_seen_in_order": False,
                  "body_html": "<p>Fine <b>tea</b></p>"}  # fmt: skip
    product = Product(
        workspace_id=workspace.id,
        source="wechat_shop",
        name="Black tea",
        external_id="10000000000010383",
        status="on_sale",
        properties=properties,
    )
    run = SyncRun(workspace_id=workspace.id, connection_id=shop.connection_id, status="succeeded",
                  counts={"orders": {"created": 48, "skipped": 5},
                          "customers": {"created": 33, "possible_duplicates": 4},
                          "events": {"purchase": 48, "first_purchase": 33}})  # fmt: skip
    db.session.add_all([product, run])
    db.session.commit()

    listing = admin.get("/products", headers=ZH).get_data(as_text=True)
    assert ">出售中<" in listing and "on_sale" not in listing
    page = admin.get(f"/products/{product.id}", headers=ZH).get_data(as_text=True)
    for shown in ("规格", "库存", "451", "196.80", "Tea, Gifts", "https://img.example/1.jpg",
                  "Fine tea", ">否<", "小商店状态码"):  # fmt: skip
        assert shown in page, shown
    for stored in ("sku_id", "stock_num", "{&#39;", "[&#39;", "<b>tea", "Spu status"):
        assert stored not in page, stored
    counts = admin.get(f"/syncs/{run.id}", headers=ZH).get_data(as_text=True)
    for shown in ("新建: 48", "跳过: 5", "疑似重复: 4", "购买: 48", "事件"):
        assert shown in counts, shown
    for stored in ("possible_duplicates", "first_purchase", "skipped", "Events"):
        assert stored not in counts, stored


def test_the_rule_editor_names_its_condition_fields_in_words(admin):
    """The editor keeps the API's field keys as values and offers them in (Chinese) words."""
    page = admin.get("/rules/new", headers=ZH).get_data(as_text=True)
    assert '<option value="amount" label="订单金额">' in page
    assert '<option value="line.sku" label="商品行的 SKU">' in page
    assert '<option value="gte" >大于等于</option>' in page  # operators in words too
