"""Issue 22.5: one canonical source key with a display name ("Youzan"/"youzan" are one source
in the filters; every writer stores the key; filters take it in any case); tags are unique
case-insensitively ("VIP", "vip" and "Vip" are one tag); migrations canonicalise and merge
existing rows; an unbound store shows as unbound, without a live-looking status and expiry."""

from __future__ import annotations

import re
from datetime import timedelta

import flask_migrate
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hub.core import ingest, zones
from hub.core.records import CustomerRecord
from hub.extensions import db
from hub.models import Connection, Customer, CustomerTag, Order, SyncRun, Tag, utcnow
from hub.services import connections, tokens
from tests.support.orders import T0, order
from tests.support.ui import browser, login, make_user, seed

API = "/api/v1"


@pytest.fixture
def ui(app, workspace):
    make_user(workspace, "admin@acme.test")
    admin = browser(app)
    assert login(admin, "admin@acme.test").status_code == 302
    return admin


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}


def _shop(workspace_id: int) -> None:
    """Orders whose connectors spelled their sources every way."""
    spelled = [("Y-1", "youzan", "Youzan"), ("Y-2", "Youzan", "youzan"), ("T-1", "tmall", "Tmall"),
               ("T-2", "TMALL", "tmall"), ("S-1", "sobot", "有赞")]  # fmt: skip
    records = []
    for n, (ext, source, channel) in enumerate(spelled):
        at = T0 + timedelta(hours=n)
        rec = order(ext, source=source, at=at, identities=[("yz_open_id", ext)])
        rec.sales_channel = channel
        rec.buyer.original_source = channel
        records.append(rec)
    ingest.apply(db.session, workspace_id, records)


def test_every_writer_stores_the_source_key(app, workspace):
    _shop(workspace.id)
    ingest.apply(db.session, workspace.id, [CustomerRecord(identities=[("mobile", "13900009999")],
                 original_source="WeChat Mini Shop")])  # fmt: skip
    stored = db.session.execute(sa.select(Order.source, Order.sales_channel)).all()
    assert {s for s, _c in stored} == {"youzan", "tmall", "sobot"}
    assert {c for _s, c in stored} == {"youzan", "tmall"}
    origins = set(db.session.scalars(sa.select(Customer.original_source)))
    assert origins == {"youzan", "tmall", "wechat_shop"}


def test_each_source_is_listed_once_by_its_display_name(ui, workspace):
    _shop(workspace.id)
    html = ui.get("/orders").get_data(as_text=True)
    select = re.search(r'<select name="source">(.*?)</select>', html, re.S).group(1)
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options == [("", "Any"), ("sobot", "Sobot"), ("tmall", "Tmall"), ("youzan", "Youzan")]
    customers = ui.get("/customers").get_data(as_text=True)
    select = re.search(r'<select name="source"[^>]*>(.*?)</select>', customers, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)"', select) == ["tmall", "youzan"]


@pytest.mark.parametrize("asked", ["youzan", "YOUZAN", "Youzan", "有赞"])
def test_the_api_filters_by_the_key_in_any_case(client, auth, workspace, asked):
    _shop(workspace.id)
    got = client.get(f"{API}/orders", headers=auth, query_string={"source": asked})
    assert sorted(o["order_no"] for o in got.get_json()["items"]) == ["S-1", "Y-1", "Y-2"]
    people = client.get(f"{API}/customers", headers=auth, query_string={"source": asked})
    assert people.get_json()["total"] == 3


def test_adding_a_tag_in_another_case_is_a_no_op(ui, workspace, tmp_path):
    seeded = seed(workspace, tmp_path)
    for name in ("VIP", "vip", "Vip "):
        ui.post(f"/customers/{seeded.customer_id}/tags", data={"tag": name})
    assert db.session.scalars(sa.select(Tag.name)).all() == ["VIP"]
    assert db.session.query(CustomerTag).count() == 1
    ui.post("/tags", data={"name": "vIp"})  # creating it again refers to it
    assert db.session.scalars(sa.select(Tag.name)).all() == ["VIP"]


def test_imports_and_syncs_tag_with_the_existing_spelling(app, workspace):
    db.session.add(Tag(workspace_id=workspace.id, name="VIP"))
    db.session.commit()
    buyer = CustomerRecord(identities=[("mobile", "13900001234")], tags=["vip", "Vip", "new"])
    ingest.apply(db.session, workspace.id, [buyer])
    assert sorted(db.session.scalars(sa.select(Tag.name))) == ["VIP", "new"]
    assert db.session.query(CustomerTag).count() == 2


def test_the_database_refuses_a_case_duplicate_tag(app, workspace):
    db.session.add(Tag(workspace_id=workspace.id, name="VIP"))
    db.session.commit()
    db.session.add(Tag(workspace_id=workspace.id, name="vip"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_an_unbound_store_shows_as_unbound(ui, workspace, tmp_path):
    seeded = seed(workspace, tmp_path)
    conn = db.session.get(Connection, seeded.connection_id)
    conn.credential_expires_at = utcnow() + timedelta(days=30)
    db.session.add(SyncRun(workspace_id=workspace.id, connection_id=conn.id, status="succeeded",
                           finished_at=utcnow()))  # fmt: skip
    db.session.commit()
    shown_in = zones.zone(workspace.time_zone)
    expiry = zones.local(conn.credential_expires_at, shown_in).strftime("%Y-%m-%d %H:%M")
    assert expiry in ui.get("/stores").get_data(as_text=True)  # bound: shown
    connections.unbind(workspace.id, conn.id)
    listing = ui.get("/stores").get_data(as_text=True)
    row = re.search(r'<tr class="unbound">(.*?)</tr>', listing, re.S).group(1)
    assert "badge-succeeded" not in row and "badge-unbound" in row
    assert expiry not in row
    detail = ui.get(f"/stores/{conn.id}").get_data(as_text=True)
    shown = re.search(r'data-test="credential-expiry">(.*?)</dd>', detail, re.S).group(1)
    assert expiry not in shown and "unbound" in shown


def test_the_api_shows_an_unbound_store_as_unbound(client, auth, workspace, tmp_path):
    seeded = seed(workspace, tmp_path)
    conn = db.session.get(Connection, seeded.connection_id)
    conn.credential_expires_at = utcnow() + timedelta(days=30)
    db.session.add(SyncRun(workspace_id=workspace.id, connection_id=conn.id, status="succeeded"))
    db.session.commit()
    connections.unbind(workspace.id, conn.id)
    body = client.get(f"{API}/connections/{conn.id}", headers=auth).get_json()
    assert body["sync_status"] == "unbound" and body["credential_expires_at"] is None


# --- the migration ----------------------------------------------------------------------------

BEFORE = "4823504394dc"
NOW = "2026-11-01 00:00:00+00:00"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": []}


pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


def _rows(sql: str, **params):
    with db.engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        return result.all() if result.returns_rows else []


def test_the_migration_canonicalises_sources_and_merges_tags(app):
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        _rows("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    else:
        db.drop_all()
    flask_migrate.upgrade(revision=BEFORE)
    _rows("INSERT INTO workspaces (id, name, slug, created_at) VALUES (1, 'A', 'a', :t), "
          "(2, 'B', 'b', :t)", t=NOW)  # fmt: skip
    for cid, ws, source in [(1, 1, "Youzan"), (2, 1, "youzan"), (3, 1, "Spring Fair"),
                            (4, 1, "TMALL"), (5, 2, "Youzan")]:  # fmt: skip
        _rows("INSERT INTO customers (id, workspace_id, properties, activity_score, created_at, "
              "updated_at, original_source) VALUES (:id, :ws, '{}', 0, :t, :t, :s)",
              id=cid, ws=ws, t=NOW, s=source)  # fmt: skip
    for pid, source, ext in [(1, "youzan", "P1"), (2, "Youzan", "P2"), (3, "Youzan", "P1")]:
        _rows("INSERT INTO products (id, workspace_id, source, external_id, properties, "
              "created_at, updated_at) VALUES (:id, 1, :s, :e, '{}', :t, :t)",
              id=pid, s=source, e=ext, t=NOW)  # fmt: skip
    for tid, ws, name in [
        (1, 1, "VIP"),
        (2, 1, "vip"),
        (3, 1, "Vip"),
        (4, 1, "tea"),
        (5, 2, "vip"),
    ]:
        _rows(
            "INSERT INTO tags (id, workspace_id, name) VALUES (:id, :ws, :n)", id=tid, ws=ws, n=name
        )
    for cid, tid in [(1, 1), (1, 2), (2, 2), (3, 3), (3, 4), (5, 5)]:
        _rows("INSERT INTO customer_tags (customer_id, tag_id) VALUES (:c, :t)", c=cid, t=tid)

    flask_migrate.upgrade()

    sources = dict(_rows("SELECT id, original_source FROM customers"))
    assert sources == {1: "youzan", 2: "youzan", 3: "Spring Fair", 4: "tmall", 5: "youzan"}
    products = dict(_rows("SELECT id, source FROM products"))
    assert products == {1: "youzan", 2: "youzan", 3: "Youzan"}  # P1 of youzan exists: kept
    assert sorted(_rows("SELECT id, workspace_id, name FROM tags")) == [
        (1, 1, "VIP"), (4, 1, "tea"), (5, 2, "vip")]  # fmt: skip
    assert sorted(_rows("SELECT customer_id, tag_id FROM customer_tags")) == [
        (1, 1), (2, 1), (3, 1), (3, 4), (5, 5)]  # fmt: skip
    with pytest.raises(IntegrityError):
        _rows("INSERT INTO tags (workspace_id, name) VALUES (1, 'vIP')")
