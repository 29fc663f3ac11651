"""What the end-to-end tests of a shop connector share (tests/integration/<platform>/conftest.py):
the hub served over real HTTP for a sandbox's pushes, a sync run in the test process, the
webhook queue worked off, and readers of the core's tables."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from connectors.sandbox_serving import serve
from hub.extensions import db, redis_connection
from hub.inbox import intake
from hub.jobs.queues import WEBHOOKS, queue
from hub.models import Connection, Order, OrderLine, Product, SyncRun
from hub.sync import engine, service
from tests.support.burst import BurstWorker


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
