"""Fixtures for the Youzan end-to-end tests: the sandbox and the hub, each served over real
HTTP by werkzeug in a thread, a bound store, and helpers that read the core back."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.sandbox_serving import serve
from connectors.youzan.sandbox import create_app as create_sandbox
from connectors.youzan.sandbox import demo_bind_config
from hub.extensions import db, redis_connection
from hub.inbox import intake
from hub.jobs.queues import WEBHOOKS, queue
from hub.models import Connection, Customer, Event, Identity, Order, OrderLine, SyncRun
from hub.services import connections
from hub.sync import engine, service
from tests.support.burst import BurstWorker

YOUZAN = "connectors.youzan.connector:YouzanConnector"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [YOUZAN]}


@pytest.fixture
def sandbox_orders() -> int:
    return 300


@pytest.fixture
def sandbox(sandbox_orders):
    running = serve(create_sandbox(seed=21, orders=sandbox_orders))
    yield Sandbox(running)
    running.stop()


class Sandbox:
    """The running sandbox and its control API."""

    def __init__(self, running: Any) -> None:
        self.running = running
        self.url = running.url
        self.shop = running.app.extensions["youzan_sandbox"].shop

    def control(self, path: str, **body: Any) -> Any:
        resp = requests.post(f"{self.url}/_sandbox/{path}", json=body, timeout=30)
        assert resp.status_code < 400, resp.text
        return resp.json()

    def get(self, path: str) -> Any:
        return requests.get(f"{self.url}/_sandbox/{path}", timeout=30).json()

    def truth(self) -> dict[str, Any]:
        return self.get("truth")["orders"]

    def expected(self) -> dict[str, Any]:
        """The truth for orders updated inside the first sync's 365 days (Y4)."""
        edge = time.time() - 365 * 86400 + 300
        return {t: v for t, v in self.truth().items() if self.shop.trades[t].update_time > edge}


@pytest.fixture
def store(app, workspace, sandbox) -> Connection:
    config = {**demo_bind_config(sandbox.url), "backoff_seconds": 0.01}
    return connections.bind(workspace.id, "youzan", config)


@pytest.fixture
def hub_server(app):
    """The hub itself over real HTTP, for the sandbox's pushes."""
    running = serve(app)
    yield running.url
    running.stop()


def next_second() -> None:
    """Wait until the second of the last change is over (Youzan times are whole seconds and a
    sync's window ends at the second it starts): to the next whole second and a little."""
    time.sleep(1.02 - time.time() % 1)


def sync(conn: Connection, *, full: bool = False) -> SyncRun:
    """Request a sync and run it in the test process; returns the finished run."""
    next_second()  # let the last change fall in the window
    run = service.request_sync(conn.workspace_id, conn.id, full=full)
    engine.execute(run.id, job_id=run.job_id)
    db.session.expire_all()
    return db.session.get(SyncRun, run.id)


def run_webhook_worker(app) -> None:
    intake.flush_announcements(app)
    BurstWorker([queue(WEBHOOKS)], connection=redis_connection(app)).work(burst=True)


def hub_orders(workspace_id: int) -> dict[str, dict[str, Any]]:
    """The core's orders in the sandbox truth's shape."""
    db.session.expire_all()
    orders = db.session.scalars(select(Order).where(Order.workspace_id == workspace_id)).all()
    events = Counter(
        (order_id, kind)
        for order_id, kind in db.session.execute(
            select(Event.order_id, Event.type).where(Event.workspace_id == workspace_id)
        )
    )
    lines = Counter(
        db.session.scalars(select(OrderLine.order_id).where(OrderLine.workspace_id == workspace_id))
    )
    buyers = dict(
        db.session.execute(
            select(Identity.customer_id, Identity.value).where(
                Identity.workspace_id == workspace_id, Identity.type == "yz_open_id"
            )
        ).all()
    )
    return {
        o.external_id: {
            "status": o.status,
            "amount_total": _yuan(o.amount_total),
            "amount_paid": _yuan(o.amount_paid),
            "refunded": _yuan(o.refunded_amount),
            "lines": lines[o.id],
            "buyer": buyers.get(o.customer_id),
            "events": {k: events[(o.id, k)] for k in ("purchase", "return", "cancel")},
        }
        for o in orders
    }


def _yuan(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def customer_of(workspace_id: int, tid: str) -> Customer:
    db.session.expire_all()
    order = db.session.scalar(
        select(Order).where(Order.workspace_id == workspace_id, Order.external_id == tid)
    )
    return db.session.get(Customer, order.customer_id)
