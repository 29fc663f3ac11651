"""W2, W3, W5 and W7 against the WeChat Mini Shop sandbox over real HTTP: the rules, the
migration (CLI and API) against the sandbox's ground truth, templates copied once, the
products API, sales volume, the schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hub.extensions import db
from hub.models import Connection, Order, Product, SyncRun
from hub.services import connections, tokens
from hub.sync import engine
from tests.integration.wechat_shop.conftest import count, sync

API = "/api/v1"
TAKEN_SPUS = ("5", "11", "12", "13")
KEPT_ORDERS = ("20", "21", "30", "100", "200", "250")  # W6: every state but unpaid (10)
SOLD = ("20", "21", "30", "100")  # W5: counted; 10 unpaid, 200 refunded, 250 cancelled never


def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'm')[1]}"}


def migrate_api(client, headers, store) -> SyncRun:
    resp = client.post(f"{API}/connections/{store.id}/migrate", headers=headers)
    assert resp.status_code == 202, resp.get_json()
    engine.execute(resp.get_json()["id"])
    db.session.expire_all()
    return db.session.get(SyncRun, resp.get_json()["id"])


def test_w3_cli_migration_matches_the_sandbox_truth_and_copies_templates_once(
    runner, store, sandbox, workspace
):
    out = runner.invoke(args=["hub", "migrate", str(store.id), "--inline", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    truth = sandbox.truth()
    spus = sum(n for s, n in truth["spus_by_status"].items() if s in TAKEN_SPUS)
    orders = sum(n for s, n in truth["orders_by_status"].items() if s in KEPT_ORDERS)
    assert data["status"] == "succeeded" and data["finished_at"]
    assert data["migration"] == {"products": spus, "orders": orders}
    assert count(Order, workspace.id) == orders
    db.session.expire_all()
    settings = db.session.get(Connection, store.id).settings
    ids = [t["template_id"] for t in settings["freight_templates"]]
    assert ids == ["13800000001", "13800000002", "13800000003"]
    calls = sandbox.truth()["api_calls"]
    assert calls.get("delivery/get_freight_template") == 1, calls
    again = runner.invoke(args=["hub", "migrate", str(store.id), "--inline", "--json"])
    assert json.loads(again.output)["migration"] == {"products": spus, "orders": orders}
    assert sandbox.truth()["api_calls"].get("delivery/get_freight_template") == 1


def test_w2_rules_shape_the_products_and_a_rerun_keeps_or_rewrites_them(
    client, store, sandbox, workspace
):
    headers = auth(workspace)
    rules = {"product_status": "warehouse", "freight": {"mode": "flat", "amount": "8.00"},
             "group": "From WeChat", "skip_migrated": True}  # fmt: skip
    resp = client.patch(f"{API}/connections/{store.id}/settings", headers=headers,
                        json={"migration": rules})  # fmt: skip
    assert resp.status_code == 200 and resp.get_json()["migration"] == rules
    run = migrate_api(client, headers, store)
    assert run.status == "succeeded", run.error_message
    query = {"source": "wechat_shop", "per_page": 200}
    items = client.get(f"{API}/products", headers=headers, query_string=query).get_json()
    taken = {str(pid) for pid, spu in sandbox.shop.spus.items() if str(spu.status) in TAKEN_SPUS}
    migrated = [p for p in items["items"] if p["external_id"] in taken]
    assert len(migrated) == len(taken) == run.counts["migration"]["products"]
    for p in migrated:
        assert p["status"] == "warehouse"
        assert p["properties"]["freight"] == {"mode": "flat", "amount": "8.00"}
        assert p["properties"]["show_third_party_sales"] is False
        assert isinstance(p["properties"]["third_party_sales"], int)
    # a template that is not the shop's is refused now that the templates are copied
    bad = {"freight": {"mode": "template", "template_id": "999"}}
    resp = client.patch(f"{API}/connections/{store.id}/settings", headers=headers,
                        json={"migration": bad})  # fmt: skip
    assert resp.status_code == 400
    assert resp.get_json()["error"]["field"] == "migration.freight.template_id"
    # overwrite: "same" status back, the shop's template as freight, a second group added
    new = {
        "product_status": "same",
        "group": "Second",
        "freight": {"mode": "template", "template_id": "13800000002"},
        "skip_migrated": False,
    }
    resp = client.patch(f"{API}/connections/{store.id}/settings", headers=headers,
                        json={"migration": new})  # fmt: skip
    assert resp.status_code == 200, resp.get_json()
    migrate_api(client, headers, store)
    db.session.expire_all()
    listed = {str(pid) for pid, spu in sandbox.shop.spus.items() if spu.status == 5}
    for p in db.session.scalars(select(Product).where(Product.source == "wechat_shop")):
        if "Second" not in (p.properties or {}).get("groups", []):
            continue
        assert p.properties["groups"][:2] == ["From WeChat", "Second"]
        assert p.status == ("on_sale" if p.external_id in listed else "off_shelf")
        assert p.properties["freight"] == {"mode": "template", "template_id": "13800000002"}


def test_w5_sales_volume_follows_pay_refund_and_cancel_at_once(store, sandbox, workspace):
    from hub.jobs import schedule

    run = sync(store, full=True)
    assert run.status == "succeeded", run.error_message
    spu = next(iter(pid for pid, s in sandbox.shop.spus.items() if s.status == 5))
    made = sandbox.control("orders", count=3, items=[{"product_id": str(spu), "count": 2}])
    paid, refunded, _ = made["order_ids"]
    sandbox.control(f"orders/{refunded}/refund")  # 200: excluded
    five = [{"product_id": str(spu), "count": 5}]
    unpaid = sandbox.control("orders", count=1, paid=False, items=five)["order_ids"][0]
    sandbox.control(f"orders/{unpaid}/cancel")  # 250 unpaid: never counted
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    units = sandbox.truth()["units_by_product"]

    def expected(pid: str) -> int:
        return sum(n for s, n in units.get(pid, {}).items() if s in SOLD)

    def figures() -> dict[str, int]:
        db.session.expire_all()
        rows = db.session.scalars(select(Product).where(Product.source == "wechat_shop"))
        return {p.external_id: (p.properties or {}).get("third_party_sales", 0) for p in rows}

    got = figures()
    assert got[str(spu)] == expected(str(spu)) and expected(str(spu)) >= 4
    assert all(got[pid] == expected(pid) for pid in got), paid
    # the daily job repairs a figure corrupted in the database
    row = db.session.scalar(select(Product).where(Product.external_id == str(spu)))
    row.properties = {**row.properties, "third_party_sales": 12345}
    db.session.commit()
    assert schedule.reconcile_sales() == 1
    assert figures()[str(spu)] == expected(str(spu))


def test_w7_a_mini_shop_syncs_orders_every_5_minutes_products_daily_until_unbound(
    app, client, sandbox, workspace
):
    from connectors.wechat_shop.sandbox_server import demo_bind_config
    from hub.jobs import schedule

    headers = auth(workspace)
    body = {"platform": "wechat_shop", "settings": demo_bind_config(sandbox.url),
            "first_sync": False}  # fmt: skip
    bound = client.post(f"{API}/connections", headers=headers, json=body).get_json()
    assert bound["sync_mode"] == "auto" and bound["sync_interval_minutes"] == 5
    conn = db.session.get(Connection, bound["id"])
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    conn.last_sync_at = start
    db.session.commit()
    assert schedule.due_connections(start + timedelta(minutes=4)) == []
    assert [c.id for c in schedule.due_connections(start + timedelta(minutes=5))] == [conn.id]
    started = schedule.tick(start + timedelta(minutes=5))["started"]
    engine.execute(started[0])
    first = db.session.get(SyncRun, started[0], populate_existing=True)
    assert first.counts["products"]["created"] > 0
    spu_reads = sandbox.truth()["api_calls"]["spu/get_list"]
    order_reads = sandbox.truth()["api_calls"]["order/get_list"]
    started = schedule.tick(datetime.now(UTC) + timedelta(minutes=5))["started"]
    engine.execute(started[0])
    second = db.session.get(SyncRun, started[0], populate_existing=True)
    assert second.status == "succeeded"
    calls = sandbox.truth()["api_calls"]
    assert calls["spu/get_list"] == spu_reads  # products: read daily, not this time
    assert calls["order/get_list"] > order_reads  # orders: every automatic sync
    connections.unbind(workspace.id, conn.id)
    assert schedule.due_connections(datetime.now(UTC) + timedelta(days=2)) == []


def test_w2_a_template_rule_is_checked_against_the_shop_before_the_first_migration(
    client, store, workspace
):
    headers = auth(workspace)
    url = f"{API}/connections/{store.id}/settings"
    unknown = {"freight": {"mode": "template", "template_id": "1"}}
    bad = client.patch(url, headers=headers, json={"migration": unknown})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "migration.freight.template_id"
    good = {"freight": {"mode": "template", "template_id": "13800000003"}}
    assert client.patch(url, headers=headers, json={"migration": good}).status_code == 200
    db.session.expire_all()
    assert "freight_templates" not in db.session.get(Connection, store.id).settings  # not copied


def test_w7_the_bind_form_offers_the_platforms_5_minutes(app, workspace):
    from tests.support.ui import browser, login, make_user

    make_user(workspace, "admin@example.com")
    web = browser(app)
    assert login(web, "admin@example.com").status_code == 302
    page = web.get("/stores/bind/wechat_shop").get_data(as_text=True)
    assert 'name="sync_interval_minutes" min="5"' in page and 'value="5"' in page
