"""Migrating a store (W2 rules, W3 the run) on the hub's side, platform-neutral: a store whose
connector has capability "migrate" (tests.support.fake_migrate) against one without it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models import Connection, Product, SyncRun
from hub.services import tokens
from hub.sync import engine
from tests.support.fake_migrate import add_store, make_shop, write_shop
from tests.support.fake_platform import add_connection

API = "/api/v1"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    connectors = [
        "tests.support.fake_platform:FakeConnector",
        "tests.support.fake_migrate:FakeMigrateConnector",
    ]
    return {**app_config, "CONNECTORS": connectors}


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.json"
    write_shop(path, make_shop(12, 30))
    return path


@pytest.fixture
def store(workspace, shop_file) -> Connection:
    return add_store(workspace.id, shop_file, page_size=5)


def rules(client, auth, store, **body):
    return client.patch(f"{API}/connections/{store.id}/settings", headers=auth, json=body)


def template(template_id: str) -> dict[str, str]:
    return {"mode": "template", "template_id": template_id}


def migrate(client, auth, store) -> SyncRun:
    """Start a migration over the API and run it here, as a worker would."""
    resp = client.post(f"{API}/connections/{store.id}/migrate", headers=auth)
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["trigger"] == "migration" and body["full"] is True
    engine.execute(body["id"])
    db.session.expire_all()
    return db.session.get(SyncRun, body["id"])


def products() -> dict[str, Product]:
    db.session.expire_all()
    return {p.external_id: p for p in db.session.scalars(select(Product))}


def test_w2_defaults_shown_then_rules_stored_alone_or_with_the_sync_mode(client, auth, store):
    shown = client.get(f"{API}/connections/{store.id}", headers=auth).get_json()
    defaults = {"product_status": "same", "freight": None, "group": "Mini Shop migration",
                "skip_migrated": True}  # fmt: skip
    assert shown["migration"] == defaults
    new = {"product_status": "warehouse", "freight": {"mode": "flat", "amount": "8"},
           "group": None, "skip_migrated": False}  # fmt: skip
    resp = rules(client, auth, store, migration=new)
    assert resp.status_code == 200, resp.get_json()
    expected = {**new, "freight": {"mode": "flat", "amount": "8.00"}}
    assert resp.get_json()["migration"] == expected
    db.session.expire_all()
    assert db.session.get(Connection, store.id).settings["migration"] == expected
    both = rules(client, auth, store, mode="auto", interval_minutes=45,
                 migration={"product_status": "on_sale"})  # fmt: skip
    assert both.status_code == 200, both.get_json()
    body = both.get_json()
    assert body["sync_mode"] == "auto" and body["sync_interval_minutes"] == 45
    assert body["migration"]["product_status"] == "on_sale"
    assert body["migration"]["group"] is None  # a rule not sent stays as it was
    assert body["migration"]["freight"] == {"mode": "flat", "amount": "8.00"}
    # the existing keys keep their behaviour: mode alone, and mode still required without rules
    assert rules(client, auth, store, mode="manual").get_json()["sync_mode"] == "manual"
    assert rules(client, auth, store, interval_minutes=40).get_json()["error"]["field"] == "mode"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_status": "sold"}, "migration.product_status"),
        ({"freight": {"mode": "flat", "amount": "-1"}}, "migration.freight.amount"),
        ({"freight": {"mode": "flat", "amount": "8.001"}}, "migration.freight.amount"),
        ({"freight": {"mode": "flat", "amount": 8.5}}, "migration.freight.amount"),
        ({"freight": {"mode": "template", "template_id": " "}}, "migration.freight.template_id"),
        ({"freight": {"mode": "free"}}, "migration.freight.mode"),
        ({"group": ""}, "migration.group"),
        ({"skip_migrated": "yes"}, "migration.skip_migrated"),
        ({"colour": "red"}, "migration.colour"),
        ("same", "migration"),
    ],
)
def test_w2_bad_rules_are_refused_naming_the_field(client, auth, store, body, field):
    resp = rules(client, auth, store, migration=body)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["field"] == field, resp.get_json()
    db.session.expire_all()
    assert "migration" not in db.session.get(Connection, store.id).settings


def test_w2_rules_refused_for_a_store_that_cannot_migrate(client, auth, workspace, tmp_path):
    plain = add_connection(workspace.id, tmp_path / "orders.json")
    resp = rules(client, auth, plain, migration={"product_status": "same"})
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "migration"
    assert "migration" not in client.get(f"{API}/connections/{plain.id}", headers=auth).get_json()
    resp = client.post(f"{API}/connections/{plain.id}/migrate", headers=auth)
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "migration"


def test_w3_rules_and_unbind_refused_while_a_migration_runs(client, auth, runner, store):
    started = client.post(f"{API}/connections/{store.id}/migrate", headers=auth).get_json()
    changed = rules(client, auth, store, migration={"product_status": "on_sale"})
    assert changed.status_code == 409
    assert changed.get_json()["error"]["code"] == "migration_running"
    unbind = client.delete(f"{API}/connections/{store.id}", headers=auth)
    assert unbind.status_code == 409 and unbind.get_json()["error"]["code"] == "migration_running"
    cli = runner.invoke(args=["hub", "unbind", str(store.id), "--json"])
    assert cli.exit_code == 1
    error = json.loads(cli.output)["error"]
    assert error["code"] == "migration_running" and "being migrated" in error["message"]
    again = client.post(f"{API}/connections/{store.id}/migrate", headers=auth)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "migration_running"
    engine.execute(started["id"])
    assert rules(client, auth, store, migration={"product_status": "on_sale"}).status_code == 200
    assert client.delete(f"{API}/connections/{store.id}", headers=auth).status_code == 200


def test_w3_migration_reports_counts_and_finish_time_and_copies_templates_once(
    client, auth, store, shop_file
):
    run = migrate(client, auth, store)
    assert run.status == "succeeded" and run.finished_at is not None
    assert run.counts["migration"] == {"products": 12, "orders": 30}
    assert run.progress_done == 42 and run.progress_total == 42
    shown = client.get(f"{API}/syncs/{run.id}", headers=auth).get_json()
    assert shown["counts"]["migration"] == {"products": 12, "orders": 30}
    assert shown["finished_at"] and shown["trigger"] == "migration"
    db.session.expire_all()
    settings = db.session.get(Connection, store.id).settings
    assert [t["template_id"] for t in settings["freight_templates"]] == ["t1", "t2"]
    counter = Path(str(shop_file) + ".templates")
    assert counter.read_text() == "1"
    # later runs never copy them again, even when the shop's templates changed
    shop = json.loads(shop_file.read_text())
    shop["templates"].append({"template_id": "t3", "name": "New"})
    write_shop(shop_file, shop)
    again = migrate(client, auth, store)
    assert again.status == "succeeded" and counter.read_text() == "1"
    db.session.expire_all()
    assert len(db.session.get(Connection, store.id).settings["freight_templates"]) == 2
    # a template rule is checked against the templates copied
    bad = rules(client, auth, store, migration={"freight": template("t3")})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "migration.freight.template_id"
    good = rules(client, auth, store, migration={"freight": template("t2")})
    assert good.status_code == 200


def test_w3_rerun_with_skip_migrated_leaves_products_untouched(client, auth, store, shop_file):
    migrate(client, auth, store)
    first = {k: (p.name, p.price, p.status, p.properties) for k, p in products().items()}
    shop = json.loads(shop_file.read_text())
    shop["products"][1].update(title="Renamed", price="99.00", listed=False)
    write_shop(shop_file, shop)
    assert rules(client, auth, store, migration={"product_status": "on_sale"}).status_code == 200
    run = migrate(client, auth, store)
    assert run.counts["products"]["kept"] == 12
    assert run.counts["migration"] == {"products": 12, "orders": 30}
    assert {k: (p.name, p.price, p.status, p.properties) for k, p in products().items()} == first


def test_w3_rerun_without_skip_rewrites_products_and_adds_the_group(client, auth, store, shop_file):
    assert rules(client, auth, store, migration={"group": None}).status_code == 200
    migrate(client, auth, store)
    assert products()["p001"].properties["groups"] == ["Tea"]
    shop = json.loads(shop_file.read_text())
    shop["products"][1].update(title="Renamed", price="99.00", listed=False, groups=[])
    write_shop(shop_file, shop)
    new = {"skip_migrated": False, "group": "From the mini shop",
           "freight": {"mode": "flat", "amount": "6.50"}}  # fmt: skip
    assert rules(client, auth, store, migration=new).status_code == 200
    run = migrate(client, auth, store)
    assert run.counts["products"]["updated"] == 12
    p = products()["p001"]
    assert (p.name, str(p.price), p.status) == ("Renamed", "99.00", "off_shelf")
    assert p.properties["freight"] == {"mode": "flat", "amount": "6.50"}
    # the group the shop no longer sends stays: groups are added, never lost
    assert p.properties["groups"] == ["Tea", "From the mini shop"]


def test_w3_cli_migrate_inline_reports_the_counts(runner, store):
    out = runner.invoke(args=["hub", "migrate", str(store.id), "--inline", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["status"] == "succeeded" and data["finished_at"]
    assert data["migration"] == {"products": 12, "orders": 30}
    plain = runner.invoke(args=["hub", "migrate", str(store.id), "--inline"])
    assert "12 products and 30 orders migrated" in plain.output


def test_w3_migration_refused_while_a_sync_runs(client, auth, store):
    sync = client.post(f"{API}/connections/{store.id}/sync", headers=auth)
    assert sync.status_code == 202
    resp = client.post(f"{API}/connections/{store.id}/migrate", headers=auth)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "conflict"
    # a plain sync does not lock the rules
    assert rules(client, auth, store, migration={"group": None}).status_code == 200


# --------------------------------------------------------------------------- W7 schedule
def test_w7_a_store_whose_platform_declares_it_syncs_every_5_minutes_by_default(
    client, auth, workspace, shop_file, tmp_path
):
    from hub.jobs import schedule

    settings = {"store_id": "M9", "api_key": "k", "data_file": str(shop_file)}
    body = {"platform": "fakemig", "settings": settings, "first_sync": False}
    bound = client.post(f"{API}/connections", headers=auth, json=body).get_json()
    assert bound["sync_mode"] == "auto" and bound["sync_interval_minutes"] == 5
    conn = db.session.get(Connection, bound["id"])
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    conn.last_sync_at = start
    db.session.commit()
    assert [c.id for c in schedule.due_connections(start + timedelta(minutes=4))] == []
    assert [c.id for c in schedule.due_connections(start + timedelta(minutes=5))] == [conn.id]
    # Y5's 30-minute floor still holds for a platform that declares nothing
    plain = add_connection(workspace.id, tmp_path / "orders.json")
    refused = rules(client, auth, plain, mode="auto", interval_minutes=5)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "interval_minutes"
    assert rules(client, auth, conn, mode="auto", interval_minutes=5).status_code == 200
    assert rules(client, auth, conn, mode="auto", interval_minutes=4).status_code == 400
    # unbind stops automatic sync
    assert client.delete(f"{API}/connections/{conn.id}", headers=auth).status_code == 200
    assert schedule.due_connections(start + timedelta(days=1)) == []


def test_w7_automatic_syncs_read_products_daily_and_orders_every_time(
    client, auth, store, shop_file
):
    from hub.jobs import schedule
    from hub.models import Cursor

    store.sync_mode, store.sync_interval_minutes = "auto", 5
    db.session.commit()

    def auto_run() -> SyncRun:
        started = schedule.tick(datetime.now(UTC) + timedelta(minutes=10))["started"]
        assert len(started) == 1
        engine.execute(started[0])
        db.session.expire_all()
        return db.session.get(SyncRun, started[0])

    first = auto_run()
    assert first.counts["products"]["created"] == 12 and first.counts["orders"]["created"] == 30
    shop = json.loads(shop_file.read_text())
    shop["orders"].append({"id": "o9999", "status": "paid", "lines": [["p001", 1]]})
    shop["products"].append({"id": "p999", "title": "New", "price": "1.00"})
    write_shop(shop_file, shop)
    second = auto_run()
    assert "products" not in second.counts  # read less than a day ago: not read
    assert second.counts["orders"]["created"] == 1
    assert "p999" not in products()
    cursor = db.session.scalar(select(Cursor).where(Cursor.stream == "products"))
    cursor.state = {**cursor.state, "bookmark": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    db.session.commit()
    third = auto_run()
    assert third.counts["products"]["created"] == 1 and "p999" in products()


# --------------------------------------------------------------------------- the store page
def test_w2_w3_store_page_sets_rules_starts_a_migration_and_refuses_changes_meanwhile(
    app, workspace, store
):
    from tests.support.ui import browser, login, make_user

    make_user(workspace, "admin@example.com")
    web = browser(app)
    assert login(web, "admin@example.com").status_code == 302
    page = web.get(f"/stores/{store.id}").get_data(as_text=True)
    assert 'data-test="migration-rules"' in page and 'value="Mini Shop migration"' in page
    form = {"product_status": "on_sale", "freight_mode": "flat", "freight_amount": "-2",
            "group": "1", "group_name": "WeChat", "skip_migrated": "1"}  # fmt: skip
    bad = web.post(f"/stores/{store.id}/migration", data=form, follow_redirects=True)
    assert "Flat freight: enter an amount of 0 or more" in bad.get_data(as_text=True)
    form["freight_amount"] = "5"
    web.post(f"/stores/{store.id}/migration", data=form)
    db.session.expire_all()
    assert db.session.get(Connection, store.id).settings["migration"] == {
        "product_status": "on_sale", "freight": {"mode": "flat", "amount": "5.00"},
        "group": "WeChat", "skip_migrated": True}  # fmt: skip
    started = web.post(f"/stores/{store.id}/migrate")
    assert started.status_code == 302 and "/syncs/" in started.headers["Location"]
    page = web.get(f"/stores/{store.id}").get_data(as_text=True)
    assert 'data-test="migration-running"' in page
    refused = web.post(f"/stores/{store.id}/migration", data=form, follow_redirects=True)
    assert "being migrated" in refused.get_data(as_text=True)
    unbind = web.post(f"/stores/{store.id}/unbind", data={"confirm_name": store.name},
                      follow_redirects=True)  # fmt: skip
    assert "being migrated" in unbind.get_data(as_text=True)
    run_id = int(started.headers["Location"].rstrip("/").split("/")[-1])
    engine.execute(run_id)
    shown = web.get(f"/syncs/{run_id}").get_data(as_text=True)
    assert "12 products and 30 orders migrated" in shown


def test_w2_new_credentials_keep_the_rules_and_the_copied_templates(client, auth, store):
    assert rules(client, auth, store, migration={"group": "Kept"}).status_code == 200
    migrate(client, auth, store)
    resp = client.patch(f"{API}/connections/{store.id}/credentials", headers=auth,
                        json={"settings": {"api_key": "new-key"}})  # fmt: skip
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["migration"]["group"] == "Kept"
    db.session.expire_all()
    settings = db.session.get(Connection, store.id).settings
    assert settings["migration"]["group"] == "Kept" and len(settings["freight_templates"]) == 2


def test_w2_cli_shows_and_changes_the_rules_and_is_refused_while_migrating(runner, store):
    def cli(*args: str):
        out = runner.invoke(args=["hub", "migration-rules", str(store.id), *args, "--json"])
        return out.exit_code, json.loads(out.output)

    assert cli() == (0, {"connection_id": store.id, "migration": {
        "product_status": "same", "freight": None, "group": "Mini Shop migration",
        "skip_migrated": True}})  # fmt: skip
    code, data = cli("--product-status", "warehouse", "--freight-flat", "3.5", "--no-group",
                     "--overwrite")  # fmt: skip
    assert code == 0 and data["migration"] == {"product_status": "warehouse", "skip_migrated":
        False, "freight": {"mode": "flat", "amount": "3.50"}, "group": None}  # fmt: skip
    code, data = cli("--freight-flat", "-1")
    assert code == 1 and data["error"]["message"].startswith("Flat freight:")
    runner.invoke(args=["hub", "migrate", str(store.id), "--json"])  # queued: a migration runs
    code, data = cli("--group", "Tea")
    assert code == 1 and data["error"]["code"] == "migration_running"
    assert "being migrated" in data["error"]["message"]
