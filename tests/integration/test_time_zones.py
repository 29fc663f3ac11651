"""Issue 22.1: each workspace has a time zone (default Asia/Shanghai). Pages show and filter
every time in it, labelled; storage stays UTC and the API keeps ISO 8601 with offsets;
spreadsheet times without an offset are read in it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.core import zones
from hub.core.errors import ValidationFailed
from hub.extensions import db
from hub.imports import service as imports
from hub.models import ImportRun, Order, Workspace
from hub.services import workspaces
from hub.services.tokens import create_token
from tests.support.spreadsheets import IMPORT_CONNECTORS, write_csv
from tests.support.ui import browser, login, make_user
from tests.support.youzan_orders import youzan_order

SOBOT_HEADERS = ["Order No*", "Order Source*", "Order Status*", "Order Time*", "Store No",
                 "Buyer Mobile", "Product ID*", "Product SKU*", "Quantity*",
                 "Unit Price*"]  # fmt: skip


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": list(IMPORT_CONNECTORS)}


def signed_in(app, ws: Workspace, email: str):
    make_user(ws, email)
    client = browser(app)
    assert login(client, email).status_code == 302
    return client


def page(client, url: str, **query) -> str:
    response = client.get(url, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_new_workspace_defaults_to_shanghai(workspace) -> None:
    db.session.refresh(workspace)
    assert workspace.time_zone == "Asia/Shanghai"


def test_youzan_order_at_2033_shanghai_shows_2033_in_the_list_and_the_order_page(
    app, workspace
) -> None:
    order = youzan_order(workspace, "E1", "2026-11-14 20:33:00")
    assert order.ordered_at == datetime(2026, 11, 14, 12, 33, tzinfo=UTC)  # stored in UTC
    client = signed_in(app, workspace, "admin@acme.test")
    listing = page(client, "/orders")
    detail = page(client, f"/orders/{order.id}")
    for html in (listing, detail):
        assert "2026-11-14 20:33 <span" in html and "(UTC+08:00)" in html
        assert "12:33" not in html
        assert 'datetime="2026-11-14T20:33:00+08:00"' in html
    assert "Asia/Shanghai" in listing  # the page says which zone its dates are in


def test_api_keeps_iso_8601_with_the_offset(app, workspace) -> None:
    order = youzan_order(workspace, "E1", "2026-11-14 20:33:00")
    _token, secret = create_token(workspace.id, "test", role="read-only")
    headers = {"Authorization": f"Bearer {secret}"}
    body = app.test_client().get(f"/api/v1/orders/{order.id}", headers=headers).get_json()
    assert datetime.fromisoformat(body["ordered_at"]) == datetime(2026, 11, 14, 12, 33, tzinfo=UTC)
    assert body["ordered_at"].endswith("+00:00")


def _order_nos(html: str) -> set[str]:
    return set(re.findall(r'class="mono" href="/orders/\d+">([^<]+)<', html))


def test_date_filters_are_days_of_the_workspace_zone(app, workspace) -> None:
    youzan_order(workspace, "LATE", "2026-11-14 23:30:00")  # 15:30 UTC on the 14th
    youzan_order(workspace, "EARLY", "2026-11-15 00:30:00")  # 16:30 UTC on the 14th
    client = signed_in(app, workspace, "admin@acme.test")
    on_14th = page(client, "/orders", since="2026-11-14", until="2026-11-14")
    on_15th = page(client, "/orders", since="2026-11-15", until="2026-11-15")
    assert _order_nos(on_14th) == {"LATE"}
    assert _order_nos(on_15th) == {"EARLY"}
    _token, secret = create_token(workspace.id, "test", role="read-only")
    api = app.test_client().get(
        "/api/v1/orders",
        query_string={"from": "2026-11-15", "to": "2026-11-15"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert [o["order_no"] for o in api.get_json()["items"]] == ["EARLY"]


def _dashboard(client, day: str) -> tuple[str, dict]:
    html = page(client, "/dashboard", start=day, end=day)
    figures = re.search(r'id="dashboard-figures">(.*?)</script>', html, re.S)
    assert figures
    return html, json.loads(figures.group(1))


def _orders_kpi(html: str) -> str:
    found = re.search(
        r'data-kpi="orders"><div class="label">[^<]*</div><div class="value">([^<]*)<', html
    )
    assert found
    return found.group(1)


def test_dashboard_day_buckets_are_days_of_the_workspace_zone(app, workspace) -> None:
    youzan_order(workspace, "LATE", "2026-11-14 23:30:00")
    youzan_order(workspace, "EARLY", "2026-11-15 00:30:00")
    client = signed_in(app, workspace, "admin@acme.test")
    html, figures = _dashboard(client, "2026-11-15")
    assert _orders_kpi(html) == "1"
    bars = figures["orders"]["data"][0]
    assert [str(x)[:10] for x in bars["x"]] == ["2026-11-15"]
    html, figures = _dashboard(client, "2026-11-14")
    assert _orders_kpi(html) == "1"
    assert [str(x)[:10] for x in figures["orders"]["data"][0]["x"]] == ["2026-11-14"]
    assert "Asia/Shanghai" in html


def _sobot(ws: Workspace, tmp_path: Path, order_no: str, time: str) -> Order:
    row = [order_no, "Youzan", "Paid", time, "S1", "13800139000", "P-1", "P-1-R", "1", "9.90"]
    path = write_csv(tmp_path / f"{order_no}.csv", [SOBOT_HEADERS, row])
    run = imports.start(ws.id, "sobot-orders", [(path.name, path)], enqueue=False)
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 0), run.error
    found = db.session.scalar(select(Order).where(Order.order_no == order_no))
    assert found is not None
    return found


def test_sobot_time_without_offset_is_read_in_the_workspace_zone(app, workspace, tmp_path):
    order = _sobot(workspace, tmp_path, "SO-1", "2026-11-14 11:03:23")
    assert order.ordered_at == datetime(2026, 11, 14, 3, 3, 23, tzinfo=UTC)
    client = signed_in(app, workspace, "admin@acme.test")
    html = page(client, f"/orders/{order.id}")
    assert "2026-11-14 11:03 <span" in html and "03:03" not in html


def test_sobot_time_with_an_offset_keeps_it(app, workspace, tmp_path):
    order = _sobot(workspace, tmp_path, "SO-2", "2026-11-14 11:03:23+01:00")
    assert order.ordered_at == datetime(2026, 11, 14, 10, 3, 23, tzinfo=UTC)


def test_a_london_workspace_reads_and_shows_its_own_zone(app, workspace, other_workspace, tmp_path):
    admin = signed_in(app, other_workspace, "admin@other.test")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page(admin, "/settings/workspace"))
    form = {"time_zone": "Europe/London", **({"csrf_token": token.group(1)} if token else {})}
    saved = admin.post("/settings/workspace", data=form, follow_redirects=True)
    assert "Time zone set to Europe/London" in saved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Workspace, other_workspace.id).time_zone == "Europe/London"
    # the same wall time in a spreadsheet is another instant in London (GMT in November)
    london = _sobot(other_workspace, tmp_path, "SO-L", "2026-11-14 11:03:23")
    assert london.ordered_at == datetime(2026, 11, 14, 11, 3, 23, tzinfo=UTC)
    html = page(admin, f"/orders/{london.id}")
    assert "2026-11-14 11:03 <span" in html and "(UTC+00:00)" in html
    # one instant, each workspace in its own zone (Shanghai's page unchanged)
    shanghai = youzan_order(workspace, "E1", "2026-11-14 20:33:00")
    theirs = youzan_order(other_workspace, "E2", "2026-11-14 20:33:00")
    assert shanghai.ordered_at == theirs.ordered_at
    assert "2026-11-14 12:33 <span" in page(admin, f"/orders/{theirs.id}")
    mine = signed_in(app, workspace, "admin@acme.test")
    assert "2026-11-14 20:33 <span" in page(mine, f"/orders/{shanghai.id}")


def test_london_summer_time_is_labelled_with_its_offset(app, other_workspace) -> None:
    workspaces.set_time_zone(other_workspace.id, "Europe/London")
    order = youzan_order(other_workspace, "E3", "2026-07-01 20:33:00")  # 12:33 UTC = 13:33 BST
    client = signed_in(app, other_workspace, "admin@other.test")
    html = page(client, f"/orders/{order.id}")
    assert "2026-07-01 13:33 <span" in html and "(UTC+01:00)" in html


@pytest.mark.parametrize("name", ["Mars/Olympus", "shanghai", "UTC+8", "", "Asia/Shanghai/../x"])
def test_an_invalid_zone_is_refused_naming_the_field(workspace, name) -> None:
    with pytest.raises(ValidationFailed, match="time_zone") as caught:
        workspaces.set_time_zone(workspace.id, name)
    assert caught.value.field == "time_zone"
    db.session.refresh(workspace)
    assert workspace.time_zone == "Asia/Shanghai"


def test_the_settings_page_refuses_an_invalid_zone_and_keeps_the_old_one(app, workspace):
    client = signed_in(app, workspace, "admin@acme.test")
    answer = client.post(
        "/settings/workspace", data={"time_zone": "Mars/Olympus"}, follow_redirects=True
    )
    html = answer.get_data(as_text=True)
    assert "Time zone: “Mars/Olympus” is not a time zone name" in html
    assert 'value="Mars/Olympus"' in html  # the form keeps what was typed
    db.session.expire_all()
    assert db.session.get(Workspace, workspace.id).time_zone == "Asia/Shanghai"


def test_only_an_admin_sets_the_zone(app, workspace) -> None:
    make_user(workspace, "analyst@acme.test", role="analyst")
    client = browser(app)
    login(client, "analyst@acme.test")
    assert "Asia/Shanghai" in page(client, "/settings/workspace")
    answer = client.post("/settings/workspace", data={"time_zone": "Europe/London"})
    assert answer.status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(Workspace, workspace.id).time_zone == "Asia/Shanghai"


def test_analyses_read_days_in_the_workspace_zone(app, workspace) -> None:
    import hub.analytics as ha

    youzan_order(workspace, "LATE", "2026-11-14 23:30:00")
    youzan_order(workspace, "EARLY", "2026-11-15 00:30:00")
    tz = ha.workspace_zone(workspace)
    assert tz == "Asia/Shanghai"
    tx = ha.load_transactions(workspace, "2026-11-15", "2026-11-16", tz=tz)
    assert list(tx["ordered_at"].dt.strftime("%Y-%m-%d %H:%M")) == ["2026-11-15 00:30"]
    every = ha.load_transactions(workspace, tz=tz)
    days = ha.orders_over_time(every, freq="D")
    assert [str(d.date()) for d in days.index] == ["2026-11-14", "2026-11-15"]


def test_every_notebook_reads_in_the_workspace_zone() -> None:
    """The notebooks declare ``tz`` (None: the workspace's zone) and hand it to every loader;
    test_report.py executes them."""
    from hub.analytics.report import available

    for name, path in available().items():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "\ntz = None" in code, name
        assert "tz = tz or ha.workspace_zone(workspace, engine=engine)" in code, name
        loads = re.findall(r"ha\.load_\w+\([^)]*\)", code)
        assert loads and all("tz=tz" in call for call in loads), (name, loads)


def test_api_reads_and_sets_the_workspace_zone(app, workspace) -> None:
    client = app.test_client()
    _token, admin = create_token(workspace.id, "admin", role="admin")
    _token, reader = create_token(workspace.id, "reader", role="read-only")
    as_admin = {"Authorization": f"Bearer {admin}"}
    got = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {reader}"})
    assert got.get_json()["time_zone"] == "Asia/Shanghai"
    bad = client.patch("/api/v1/workspace/settings", json={"time_zone": "Mars/Olympus"},
                       headers=as_admin)  # fmt: skip
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "time_zone"
    assert "Mars/Olympus" in bad.get_json()["error"]["message"]
    for wrong in (8, None, ""):
        answer = client.patch("/api/v1/workspace/settings", json={"time_zone": wrong},
                              headers=as_admin)  # fmt: skip
        assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "time_zone"
    denied = client.patch("/api/v1/workspace/settings", json={"time_zone": "Europe/London"},
                          headers={"Authorization": f"Bearer {reader}"})  # fmt: skip
    assert denied.status_code == 403
    ok = client.patch(
        "/api/v1/workspace/settings", json={"time_zone": "europe/london"}, headers=as_admin
    )  # fmt: skip  (the IANA spelling is stored)
    assert ok.status_code == 200 and ok.get_json()["time_zone"] == "Europe/London"
    db.session.expire_all()
    assert db.session.get(Workspace, workspace.id).time_zone == "Europe/London"


def test_cli_lists_show_times_in_the_workspace_zone(app, workspace, runner, tmp_path) -> None:
    token, _secret = create_token(workspace.id, "etl")
    token.revoked_at = datetime(2026, 11, 14, 12, 33, tzinfo=UTC)
    db.session.commit()
    listed = runner.invoke(args=["hub", "token", "list", "--workspace", "acme"])
    assert listed.exit_code == 0, listed.output
    assert "revoked 2026-11-14 20:33 (UTC+08:00)" in listed.output
    order = _sobot(workspace, tmp_path, "SO-H", "2026-11-14 11:03:23")
    assert order is not None
    history = runner.invoke(args=["hub", "import", "history", "--workspace", "acme"])
    assert history.exit_code == 0, history.output
    created = db.session.scalar(select(ImportRun.created_at))
    assert zones.labelled(created, zones.zone("Asia/Shanghai")) in history.output
    assert "(UTC+08:00)" in history.output
