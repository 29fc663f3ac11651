"""Fixtures for the Shopify connector's end-to-end tests: the sandbox and the hub over real
HTTP (werkzeug in threads), a bound store, a sync run in the test process and readers of the
core's tables."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.sandbox_serving import serve
from connectors.shopify.sandbox_server import create_app, demo_bind_config
from hub.extensions import db
from hub.models import Connection, Customer, Identity
from hub.services import connections
from tests.support.shops import (  # noqa: F401  (fixtures and helpers the tests import from here)
    hub_server,
    order,
    order_lines,
    product,
    run_webhook_worker,
    sync,
)

SHOPIFY = "connectors.shopify.connector:ShopifyConnector"
API = "/admin/api/2025-01"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [SHOPIFY]}


@pytest.fixture
def sandbox_orders() -> int:
    return 120


class Sandbox:
    """The running sandbox and its control API."""

    def __init__(self, running: Any) -> None:
        self.running = running
        self.url = running.url
        self.state = running.app.extensions["shopify_sandbox"]
        self.shop = self.state.shop

    def control(self, path: str, **body: Any) -> Any:
        resp = requests.post(f"{self.url}/_sandbox/{path}", json=body, timeout=30)
        assert resp.status_code < 400, resp.text
        return resp.json()

    def api(self, path: str, **params: Any) -> Any:
        token = demo_bind_config(self.url)["access_token"]
        headers = {"X-Shopify-Access-Token": token}
        resp = requests.get(f"{self.url}{API}/{path}", params=params, headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def truth(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/_sandbox/truth", timeout=30).json()


@pytest.fixture
def sandbox(sandbox_orders: int):
    running = serve(create_app(seed=23, orders=sandbox_orders))
    yield Sandbox(running)
    running.stop()


@pytest.fixture
def store(app, workspace, sandbox) -> Connection:
    return connections.bind(workspace.id, "shopify", demo_bind_config(sandbox.url))


def customer_by(workspace_id: int, kind: str, value: str) -> Customer | None:
    db.session.expire_all()
    cid = db.session.scalar(
        select(Identity.customer_id).where(
            Identity.workspace_id == workspace_id, Identity.type == kind, Identity.value == value
        )
    )
    return None if cid is None else db.session.get(Customer, cid)
