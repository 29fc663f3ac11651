"""Sales volume of migrated products (W5) and the products API and page that show it, on the
hub's side: a store whose connector has capability "migrate" (tests.support.fake_migrate)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models import Product
from hub.services import tokens
from hub.sync import engine, service
from tests.support.fake_migrate import FakeOrders, add_store, write_shop
from tests.support.ui import browser, csrf_token, login, make_user

API = "/api/v1"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    connectors = [
        "tests.support.fake_platform:FakeConnector",
        "tests.support.fake_migrate:FakeMigrateConnector",
    ]
    return {**app_config, "CONNECTORS": connectors, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}


SHOP = {
    "products": [
        {"id": "tea", "title": "Tea", "price": "20.00", "groups": ["Drinks"]},
        {"id": "cup", "title": "Cup", "price": "8.00", "listed": False},
        {"id": "pot", "title": "Pot", "price": "50.00"},
    ],
    "orders": [
        {"id": "o1", "status": "paid", "lines": [["tea", 2], ["cup", 1]]},
        {"id": "o2", "status": "shipped", "lines": [["tea", 3]]},
        {"id": "o3", "status": "completed", "lines": [["cup", 4]]},
        {"id": "o4", "status": "closed", "code": "250", "lines": [["tea", 5]]},
    ],
    "templates": [],
}


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.json"
    write_shop(path, SHOP)
    return path


@pytest.fixture
def store(workspace, shop_file):
    return add_store(workspace.id, shop_file)


def run(store, *, migration: bool = False) -> None:
    if migration:
        from hub.services.migration import request_migration

        started = request_migration(store.workspace_id, store.id)
    else:
        started = service.request_sync(store.workspace_id, store.id)
    engine.execute(started.id)
    db.session.expire_all()


def figures() -> dict[str, int | None]:
    db.session.expire_all()
    return {
        p.external_id: (p.properties or {}).get("third_party_sales")
        for p in db.session.scalars(select(Product))
    }


def change(shop_file: Path, order_id: str, **values) -> None:
    shop = json.loads(shop_file.read_text())
    for row in shop["orders"]:
        if row["id"] == order_id:
            row.update(values)
    write_shop(shop_file, shop)


def test_w5_paid_shipped_completed_count_at_once_refunds_and_cancels_never(store, shop_file):
    run(store, migration=True)
    assert figures() == {"tea": 5, "cup": 5, "pot": 0}
    # o1 refunded in full (closed): its units leave the figures at the next sync
    change(shop_file, "o1", status="closed", code="200", updated="2026-11-02T08:00:00+00:00")
    shop = json.loads(shop_file.read_text())
    # an order paid today, and an earlier day's order arriving late: both count at once
    shop["orders"] += [
        {"id": "o5", "status": "paid", "lines": [["pot", 1]]},
        {"id": "o0", "status": "paid", "at": "2026-10-01T08:00:00+00:00", "lines": [["pot", 2]]},
        {"id": "o6", "status": "pending", "lines": [["pot", 7]]},
    ]
    write_shop(shop_file, shop)
    run(store)
    assert figures() == {"tea": 3, "cup": 4, "pot": 3}


def test_w5_a_line_removed_from_a_paid_order_leaves_its_products_figure_at_once(store, shop_file):
    # an order edit (H7) drops o1's cup line: the cup's figure falls with the next sync, though
    # no line of that sync names the cup any more
    run(store, migration=True)
    assert figures() == {"tea": 5, "cup": 5, "pot": 0}
    change(shop_file, "o1", lines=[["tea", 2]], updated="2026-11-02T08:00:00+00:00")
    run(store)
    assert figures() == {"tea": 5, "cup": 4, "pot": 0}


def test_w5_each_sync_adds_its_own_orders_to_the_figures(store, shop_file):
    # many syncs, each bringing orders (new, paid, refunded, edited): the figures always equal
    # what the stored orders count (what the daily job would set), sync after sync
    from hub.jobs import schedule

    run(store, migration=True)
    steps = [
        ("o7", {"status": "paid", "lines": [["tea", 1], ["pot", 2]]}),
        ("o7", {"status": "shipped", "updated": "2026-11-02T08:00:00+00:00"}),
        ("o8", {"status": "pending", "lines": [["cup", 9]]}),
        ("o8", {"status": "paid", "updated": "2026-11-02T08:00:00+00:00"}),
        ("o7", {"status": "closed", "code": "200", "updated": "2026-11-03T08:00:00+00:00"}),
        ("o8", {"lines": [["cup", 3], ["tea", 1]], "updated": "2026-11-04T08:00:00+00:00"}),
    ]
    expected = [
        {"tea": 6, "cup": 5, "pot": 2},
        {"tea": 6, "cup": 5, "pot": 2},
        {"tea": 6, "cup": 5, "pot": 2},
        {"tea": 6, "cup": 14, "pot": 2},
        {"tea": 5, "cup": 14, "pot": 0},
        {"tea": 6, "cup": 8, "pot": 0},
    ]
    for (order_id, values), want in zip(steps, expected, strict=True):
        shop = json.loads(shop_file.read_text())
        if not any(row["id"] == order_id for row in shop["orders"]):
            shop["orders"].append({"id": order_id, **values})
            write_shop(shop_file, shop)
        else:
            change(shop_file, order_id, **values)
        run(store)
        assert figures() == want
    assert schedule.reconcile_sales() == 0


def test_w5_a_batch_moves_the_figures_by_its_own_orders_never_resumming_history(store, shop_file):
    # a batch of orders costs what its orders hold: it adds their delta to each figure (so a
    # figure corrupted in the database stays off by as much until the daily job), and counts
    # in full only a product that has no figure yet
    from hub.core import ingest
    from hub.jobs import schedule

    run(store, migration=True)
    by_id = {p.external_id: p for p in db.session.scalars(select(Product))}
    by_id["tea"].properties = {**by_id["tea"].properties, "third_party_sales": 100}
    by_id["pot"].properties = {
        k: v for k, v in by_id["pot"].properties.items() if k != "third_party_sales"
    }
    db.session.commit()
    shop = json.loads(shop_file.read_text())
    shop["orders"] = [
        {"id": "o9", "status": "paid", "lines": [["tea", 2], ["pot", 1]]},
        {"id": "o2", "status": "closed", "code": "200", "lines": [["tea", 3]]},
    ]
    orders = FakeOrders(SimpleNamespace(config=store.settings))  # the connector's records
    records = [orders.record(row) for row in shop["orders"]]
    options = ingest.IngestOptions(sales_volume=True)
    result = ingest.apply(db.session, store.workspace_id, records, options=options)
    assert not result.failures
    assert figures() == {"tea": 99, "cup": 5, "pot": 1}  # 100 + 2 - 3; pot counted in full
    assert schedule.reconcile_sales() == 1
    assert figures() == {"tea": 4, "cup": 5, "pot": 1}


def test_w5_the_daily_job_repairs_a_corrupted_figure(store):
    from hub.jobs import schedule

    run(store, migration=True)
    tea = db.session.scalar(select(Product).where(Product.external_id == "tea"))
    tea.properties = {**tea.properties, "third_party_sales": 999}
    pot = db.session.scalar(select(Product).where(Product.external_id == "pot"))
    pot.properties = {k: v for k, v in pot.properties.items() if k != "third_party_sales"}
    db.session.commit()
    assert schedule.reconcile_sales() == 2
    assert figures() == {"tea": 5, "cup": 5, "pot": 0}
    assert schedule.reconcile_sales() == 0


def test_w5_a_rewritten_product_keeps_its_figure_and_switch(client, auth, store):
    run(store, migration=True)
    tea = db.session.scalar(select(Product).where(Product.external_id == "tea"))
    resp = client.patch(
        f"{API}/products/{tea.id}", headers=auth, json={"show_third_party_sales": True}
    )
    assert resp.status_code == 200
    from hub.services.migration import update_rules

    update_rules(store.workspace_id, store.id, {"skip_migrated": False})
    run(store, migration=True)
    db.session.expire_all()
    tea = db.session.get(Product, tea.id)
    assert tea.properties["third_party_sales"] == 5 and tea.properties["show_third_party_sales"]
    assert tea.properties["groups"] == ["Drinks", "Mini Shop migration"]


def test_products_api_shows_status_groups_freight_and_sales(client, auth, store):
    run(store, migration=True)
    resp = client.get(f"{API}/products", headers=auth, query_string={"source": "fakemig"})
    items = {p["external_id"]: p for p in resp.get_json()["items"]}
    assert items["cup"]["status"] == "off_shelf" and items["tea"]["status"] == "on_sale"
    tea = items["tea"]["properties"]
    assert tea["groups"] == ["Drinks", "Mini Shop migration"]
    assert tea["freight"] == {"mode": "shop", "template_id": None}
    assert tea["third_party_sales"] == 5 and tea["show_third_party_sales"] is False
    on = client.patch(f"{API}/products/{items['tea']['id']}", headers=auth,
                      json={"show_third_party_sales": True})  # fmt: skip
    assert on.status_code == 200
    body = on.get_json()
    assert body["properties"]["show_third_party_sales"] is True
    assert body["sales"] == {"own": 0, "third_party": 5, "show_third_party": True,
                             "buyers_see": 5}  # fmt: skip
    bad = client.patch(f"{API}/products/{items['tea']['id']}", headers=auth,
                       json={"show_third_party_sales": "yes"})  # fmt: skip
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "show_third_party_sales"


def test_products_patch_is_workspace_scoped(client, store, other_workspace):
    run(store, migration=True)
    other = {"Authorization": f"Bearer {tokens.create_token(other_workspace.id, 'b')[1]}"}
    tea = db.session.scalar(select(Product).where(Product.external_id == "tea"))
    resp = client.patch(f"{API}/products/{tea.id}", headers=other,
                        json={"show_third_party_sales": True})  # fmt: skip
    assert resp.status_code == 404
    assert client.get(f"{API}/products/{tea.id}", headers=other).status_code == 404
    db.session.expire_all()
    assert "show_third_party_sales" not in db.session.get(Product, tea.id).properties


def test_w5_product_page_shows_the_figures_and_the_switch(app, workspace, store):
    run(store, migration=True)
    tea = db.session.scalar(select(Product).where(Product.external_id == "tea"))
    make_user(workspace, "admin@example.com")
    web = browser(app)
    token = csrf_token(web.get("/login").get_data(as_text=True))
    assert login(web, "admin@example.com", csrf_token=token).status_code == 302
    page = web.get(f"/products/{tea.id}").get_data(as_text=True)
    assert 'id="third-party-sales">5<' in page and 'id="buyers-see">0<' in page
    assert 'id="own-sales">0<' in page
    done = web.post(f"/products/{tea.id}/third-party-sales",
                    data={"show": "1", "csrf_token": csrf_token(page)})  # fmt: skip
    assert done.status_code == 302
    page = web.get(f"/products/{tea.id}").get_data(as_text=True)
    assert 'id="buyers-see">5<' in page
    refused = web.post(f"/products/{tea.id}/third-party-sales", data={"show": "0"})
    assert refused.status_code == 400  # no CSRF token


def test_w5_the_workers_maintenance_reconciles_the_figures_once_a_day(app, store):
    from hub.extensions import redis_connection
    from hub.jobs.maintenance import SALES_KEY, Maintenance, RedisWatch
    from hub.jobs.queues import QUEUES

    run(store, migration=True)
    tea = db.session.scalar(select(Product).where(Product.external_id == "tea"))
    tea.properties = {**tea.properties, "third_party_sales": 999}
    db.session.commit()
    app.config["MAINTENANCE_SECONDS"] = 0.2
    Maintenance(app, QUEUES, RedisWatch(redis_connection())).run_pass()
    assert figures()["tea"] == 5
    assert 23 * 3600 < redis_connection().ttl(SALES_KEY) <= 24 * 3600  # not again today
