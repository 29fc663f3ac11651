"""Binding a Shopify store over real HTTP: the token proven by shop.json (401 names it), the
granted scopes read (no read_all_orders: a visible warning), the shop's id exact, and every
path under ``{base}/admin/api/{api_version}/`` with ``https://{shop}`` as the default base."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from connectors.shopify.client import ShopifyClient
from connectors.shopify.connector import NO_ALL_ORDERS, ShopifyConnector
from connectors.shopify.sandbox_data import ACCESS_TOKEN_60D, SCOPES, SHOP_ID, SHOP_NAME
from connectors.shopify.sandbox_server import demo_bind_config
from hub.connectors import ConnectorContext
from hub.core.errors import ConfigError
from hub.extensions import db
from hub.models import Connection
from hub.services import connections
from hub.sync.egress import EgressPolicy
from hub.sync.http import HttpClient
from tests.integration.shopify.conftest import sync
from tests.support.ui import browser as ui_browser
from tests.support.ui import login, make_user


def test_bind_proves_the_token_and_takes_the_shop_id_exactly(workspace, sandbox):
    conn = connections.bind(workspace.id, "shopify", demo_bind_config(sandbox.url))
    assert conn.external_id == str(SHOP_ID) == "9007199254740993"
    assert conn.name == SHOP_NAME
    assert not conn.warnings
    assert "access_token" not in conn.settings and "client_secret" not in conn.settings
    assert conn.bound_key.endswith(f"@{sandbox.url}")  # a non-official base: claim kept apart


def test_bind_with_a_wrong_token_is_refused_naming_the_token(workspace, sandbox):
    bad = {**demo_bind_config(sandbox.url), "access_token": "shpat_wrong"}
    with pytest.raises(ConfigError, match="access_token"):
        connections.bind(workspace.id, "shopify", bad)
    assert db.session.scalar(select(func.count(Connection.id))) == 0


def test_bind_without_read_all_orders_warns_that_old_orders_are_not_readable(workspace, sandbox):
    limited = {**demo_bind_config(sandbox.url), "access_token": ACCESS_TOKEN_60D}
    conn = connections.bind(workspace.id, "shopify", limited)
    assert conn.warnings == [NO_ALL_ORDERS]
    assert "older than 60 days" in NO_ALL_ORDERS and "read_all_orders" in NO_ALL_ORDERS
    [row] = connections.list_connections(workspace.id, "shopify")
    assert row["warnings"] == [NO_ALL_ORDERS]
    run = sync(conn)
    assert run.status == "succeeded", run.error_message
    db.session.expire_all()
    assert db.session.get(Connection, conn.id).warnings == [NO_ALL_ORDERS]


def test_bind_shows_the_granted_scopes_in_the_api_the_cli_and_on_the_store_page(
    app, workspace, sandbox, runner
):
    limited = {**demo_bind_config(sandbox.url), "access_token": ACCESS_TOKEN_60D}
    conn = connections.bind(workspace.id, "shopify", limited)
    granted = set(SCOPES) - {"read_all_orders"}  # what the sandbox grants that token
    assert conn.granted == sorted(granted)
    [row] = connections.list_connections(workspace.id, "shopify")
    assert row["granted_scopes"] == sorted(granted)
    make_user(workspace, "owner@acme.test")
    browser = ui_browser(app)
    login(browser, "owner@acme.test")
    page = browser.get(f"/stores/{conn.id}").get_data(as_text=True)
    assert ", ".join(sorted(granted)) in page and "read_all_orders" in page  # the warning
    connections.unbind(workspace.id, conn.id)
    db.session.commit()
    full = demo_bind_config(sandbox.url)
    result = runner.invoke(
        args=["hub", "connect", "shopify", "--workspace", "acme", "--name", "Second",
              *[a for k in ("shop", "access_token", "client_secret", "api_base")
                for a in ("--set", f"{k}={full[k]}")],
              "--no-first-sync", "--json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "read_all_orders" in json.loads(result.stdout)["granted_scopes"]


def test_default_base_is_the_shop_and_every_path_is_versioned():
    client = ShopifyClient(http=None, shop="acme.myshopify.com", access_token="t")
    assert client.url("shop.json") == "https://acme.myshopify.com/admin/api/2025-01/shop.json"
    other = ShopifyClient(
        http=None, shop="acme.myshopify.com", access_token="t",
        api_base="http://127.0.0.1:9/", api_version="2024-10",
    )  # fmt: skip
    assert other.url("orders.json") == "http://127.0.0.1:9/admin/api/2024-10/orders.json"
    context = ConnectorContext(connection_id=None, credentials={}, http=HttpClient())
    official = ShopifyConnector(
        {"shop": "acme.myshopify.com", "access_token": "t", "client_secret": "s"}, context
    )
    assert official.client.api_base == "https://acme.myshopify.com"
    assert official._origin() is None  # Shopify vouches for the shop at its own address


def test_bind_sends_the_token_header_to_the_versioned_shop_path(workspace, sandbox):
    seen: list[str] = []
    context = ConnectorContext(
        connection_id=None,
        credentials={},
        http=HttpClient(
            on_call=lambda method, url, status, _t: seen.append(f"{method} {url} {status}"),
            egress=EgressPolicy(allow_private=True),  # the sandbox is on 127.0.0.1
        ),
    )
    connector = ShopifyConnector(demo_bind_config(sandbox.url), context)
    info = connector.check()
    assert info.external_id == "9007199254740993"
    assert seen[0] == f"GET {sandbox.url}/admin/api/2025-01/shop.json 200"
    assert seen[1] == f"GET {sandbox.url}/admin/oauth/access_scopes.json 200"
    assert "read_all_orders" in connector.scopes


def test_hub_connect_shopify_with_the_issues_flags(runner, workspace, sandbox):
    config = demo_bind_config(sandbox.url)
    result = runner.invoke(
        args=["hub", "connect", "shopify", "--workspace", "acme", "--name", "Outfitters",
              "--set", f"shop={config['shop']}", "--set", f"access_token={ACCESS_TOKEN_60D}",
              "--set", f"client_secret={config['client_secret']}",
              "--set", f"api_base={config['api_base']}", "--set", "api_version=2025-01",
              "--no-first-sync"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "orders older than 60 days are not readable" in result.output
    conn = db.session.scalar(select(Connection))
    assert (conn.external_id, conn.name) == ("9007199254740993", "Outfitters")
    assert conn.settings["api_version"] == "2025-01" and conn.settings["shop"] == config["shop"]
