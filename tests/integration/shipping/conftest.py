"""Fixtures for the shipping tests (W8): a platform sandbox and the hub, each served over real
HTTP, a bound store with fresh orders awaiting shipment, an API token and helpers."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.sandbox_serving import serve
from hub.extensions import db
from hub.models import Connection, Order, SyncRun
from hub.services import connections, tokens
from hub.sync import engine, service

YOUZAN = "connectors.youzan.connector:YouzanConnector"
WECHAT = "connectors.wechat_shop.connector:WechatShopConnector"
SENDER = "13800138000"  # the merchant's mobile, which Youzan needs to ship with SF Express


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [YOUZAN, WECHAT]}


class Sandbox:
    """A running sandbox and its control API (``/_sandbox``)."""

    def __init__(self, running: Any) -> None:
        self.running = running
        self.url = running.url

    def control(self, path: str, **body: Any) -> Any:
        resp = requests.post(f"{self.url}/_sandbox/{path}", json=body, timeout=30)
        assert resp.status_code < 400, resp.text
        return resp.json()

    def get(self, path: str) -> Any:
        return requests.get(f"{self.url}/_sandbox/{path}", timeout=30).json()


@pytest.fixture
def youzan():
    from connectors.youzan.sandbox import create_app

    running = serve(create_app(seed=24, orders=30))
    yield Sandbox(running)
    running.stop()


@pytest.fixture
def youzan_store(app, workspace, youzan) -> Connection:
    from connectors.youzan.sandbox import demo_bind_config

    config = {**demo_bind_config(youzan.url), "backoff_seconds": 0.01, "sender_mobile": SENDER}
    return connections.bind(workspace.id, "youzan", config)


@pytest.fixture
def wechat():
    from connectors.wechat_shop.sandbox_server import create_app

    running = serve(create_app(seed=24, orders=40))
    yield Sandbox(running)
    running.stop()


@pytest.fixture
def wechat_store(app, workspace, wechat) -> Connection:
    from connectors.wechat_shop.sandbox_server import demo_bind_config

    return connections.bind(workspace.id, "wechat_shop", demo_bind_config(wechat.url))


@pytest.fixture
def hub(app, workspace) -> Any:
    """The hub over real HTTP, with an admin API token of the workspace."""
    running = serve(app)
    yield Hub(running.url, tokens.create_token(workspace.id, "shipping")[1])
    running.stop()


class Hub:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1{path}", json=body, headers=self.headers, timeout=30
        )

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}/api/v1{path}", headers=self.headers, timeout=30)


def sync(conn: Connection) -> SyncRun:
    """A sync of the store, run in the test process (the last change in its window)."""
    time.sleep(1.02 - time.time() % 1)  # platform times are whole seconds
    run = service.request_sync(conn.workspace_id, conn.id)
    engine.execute(run.id, job_id=run.job_id)
    db.session.expire_all()
    run = db.session.get(SyncRun, run.id)
    assert run.status == "succeeded", run.error_message
    return run


def order_of(workspace_id: int, external_id: str) -> Order:
    db.session.expire_all()
    return db.session.scalar(
        select(Order).where(Order.workspace_id == workspace_id, Order.external_id == external_id)
    )
