"""Fixtures for the WeChat Mini Shop connector's end-to-end tests: the sandbox and the hub over
real HTTP (werkzeug in threads), a bound store, a sync run in the test process and readers of
the core's tables."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.sandbox_serving import serve
from connectors.wechat_shop.sandbox_server import create_app, demo_bind_config
from hub.extensions import db
from hub.models import Connection
from hub.services import connections
from tests.support.shops import (  # noqa: F401  (fixtures and helpers the tests import from here)
    hub_server,
    order,
    order_lines,
    product,
    run_webhook_worker,
    sync,
)

WECHAT = "connectors.wechat_shop.connector:WechatShopConnector"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [WECHAT]}


@pytest.fixture
def sandbox_orders() -> int:
    return 120


class Sandbox:
    """The running sandbox and its control API."""

    def __init__(self, running: Any) -> None:
        self.running = running
        self.url = running.url
        self.state = running.app.extensions["wechat_shop_sandbox"]
        self.shop = self.state.shop

    def control(self, where: str, **body: Any) -> Any:
        resp = requests.post(f"{self.url}/_sandbox/{where}", json=body, timeout=30)
        assert resp.status_code < 400, resp.text
        return resp.json()

    def truth(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/_sandbox/truth", timeout=30).json()

    def api(self, path: str, **body: Any) -> dict[str, Any]:
        """A call as a third party would make it (its own token: it revokes the hub's)."""
        cfg = demo_bind_config(self.url)
        token = requests.get(
            f"{self.url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": cfg["appid"],
                    "secret": cfg["secret"]},
            timeout=30,
        ).json()["access_token"]  # fmt: skip
        resp = requests.post(
            f"{self.url}{path}", params={"access_token": token}, json=body, timeout=30
        )
        return resp.json()


@pytest.fixture
def sandbox(sandbox_orders: int):
    running = serve(create_app(seed=24, orders=sandbox_orders))
    yield Sandbox(running)
    running.stop()


@pytest.fixture
def store(app, workspace, sandbox) -> Connection:
    return connections.bind(workspace.id, "wechat_shop", demo_bind_config(sandbox.url))


def count(model: Any, workspace_id: int) -> int:
    from sqlalchemy import func

    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
    )
