"""Fixtures for the WeChat Mini Shop connector's end-to-end tests: the sandbox and the hub over
real HTTP (werkzeug in threads), a bound store, a sync run in the test process and readers of
the core's tables."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.sandbox_serving import serve
from connectors.wechat_shop.sandbox_server import create_app, demo_bind_config
from hub.extensions import db, redis_connection
from hub.inbox import intake
from hub.jobs.queues import WEBHOOKS, queue
from hub.models import Connection, Order, OrderLine, Product, SyncRun
from hub.services import connections
from hub.sync import engine, service
from tests.support.burst import BurstWorker

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


@pytest.fixture
def hub_server(app):
    """The hub itself over real HTTP, for the sandbox's pushes."""
    running = serve(app)
    yield running.url
    running.stop()


def sync(conn: Connection, *, full: bool = False) -> SyncRun:
    """Request a sync and run it in the test process; returns the finished run."""
    time.sleep(1.02 - time.time() % 1)  # the last change's second is over (whole seconds)
    run = service.request_sync(conn.workspace_id, conn.id, full=full)
    engine.execute(run.id, job_id=run.job_id)
    db.session.expire_all()
    return db.session.get(SyncRun, run.id)


def run_webhook_worker(app) -> None:
    intake.flush_announcements(app)
    BurstWorker([queue(WEBHOOKS)], connection=redis_connection(app)).work(burst=True)


def order(workspace_id: int, external_id: str) -> Order | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Order).where(Order.workspace_id == workspace_id, Order.external_id == external_id)
    )


def order_lines(order_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(OrderLine.external_id, OrderLine.qty).where(OrderLine.order_id == order_id)
    )
    return dict(rows.all())


def product(workspace_id: int, external_id: str) -> Product | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Product).where(
            Product.workspace_id == workspace_id, Product.external_id == external_id
        )
    )


def count(model: Any, workspace_id: int) -> int:
    from sqlalchemy import func

    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
    )
