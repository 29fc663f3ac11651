"""X2 for a migration (W3): a real `hub worker` SIGKILLed in the middle of migrating a mini
shop served by the sandbox over real HTTP; the migration resumed on a new worker finishes with
nothing doubled: its counts and the hub's rows equal the sandbox's ground truth."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.wechat_shop.sandbox_server import demo_bind_config
from hub.extensions import db
from hub.models import Order, OrderLine, Product, SyncRun
from hub.services import connections
from hub.services.migration import request_migration
from tests.integration.wechat_shop.conftest import WECHAT
from tests.support.workers import HUB, ROOT, Workers, kill_all, wait_for

TAKEN_SPUS = ("5", "11", "12", "13")
KEPT_ORDERS = ("20", "21", "30", "100", "200", "250")  # W6: every state but 10


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [WECHAT], "SYNC_STALE_SECONDS": 2}


@pytest.fixture
def sandbox_orders() -> int:
    return 3000


@pytest.fixture
def workers(tmp_path: Path, database_url: str, redis_url: str):
    procs = Workers(
        tmp_path, database_url, redis_url,
        CONNECTORS=WECHAT, ALLOW_PRIVATE_PLATFORMS="true", SYNC_HEARTBEAT_SECONDS=1,
        SYNC_STALE_SECONDS=600, AUTOSYNC_TICK_SECONDS=3600, SYNC_BATCH_RECORDS=100,
        SYNC_BATCH_SECONDS=600,
    )  # fmt: skip
    yield procs
    procs.close()


def fresh(run_id: int) -> SyncRun:
    db.session.rollback()
    return db.session.get(SyncRun, run_id, populate_existing=True)


def test_x2_w3_migration_killed_mid_run_resumes_with_nothing_doubled(
    app, workspace, sandbox, workers
):
    conn = connections.bind(workspace.id, "wechat_shop", demo_bind_config(sandbox.url),
                            sync_mode="manual")  # fmt: skip
    sandbox.control("faults", slow=0.25, count=1000, path="order/get_list")
    run = request_migration(workspace.id, conn.id)
    worker = workers.start("worker-0", "sync")
    wait_for(lambda: (fresh(run.id).progress_done or 0) >= 600, 60, "orders migrated")
    kill_all(worker)
    killed = fresh(run.id)
    assert killed.status == "running" and killed.finished_at is None, workers.log("worker-0")
    done_at_kill = killed.progress_done
    wait_for(lambda: fresh(run.id).heartbeat_at is not None and _stale(run.id), 30, "stale")
    sandbox.control("faults", clear=True)
    workers.start("worker-1", "sync")
    # `hub migrate` again: the dead run is resumed on the new worker, and waited for
    env = {**workers.env, "HUB_SYNC_STALE_SECONDS": "2"}
    command = [HUB, "migrate", str(conn.id), "--wait", "--timeout", "90", "--json"]
    cli = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout + cli.stderr + workers.log("worker-1")
    data = json.loads(cli.stdout)
    assert data["run_id"] == run.id and data["status"] == "succeeded" and data["finished_at"]
    final = fresh(run.id)
    assert final.status == "succeeded" and final.trigger == "migration"
    assert data["migration"] == final.counts["migration"]
    assert final.attempts == 2 and final.progress_done >= done_at_kill
    truth = sandbox.truth()
    spus = sum(n for s, n in truth["spus_by_status"].items() if s in TAKEN_SPUS)
    orders = sum(n for s, n in truth["orders_by_status"].items() if s in KEPT_ORDERS)
    assert final.counts["migration"] == {"products": spus, "orders": orders}
    ws = workspace.id
    assert db.session.scalar(select(func.count()).where(Order.workspace_id == ws)) == orders
    lines = sum(len(o.lines) for o in sandbox.shop.orders.values() if str(o.status) in KEPT_ORDERS)
    assert db.session.scalar(select(func.count()).where(OrderLine.workspace_id == ws)) == lines
    taken = {str(p) for p, s in sandbox.shop.spus.items() if str(s.status) in TAKEN_SPUS}
    stored = set(db.session.scalars(select(Product.external_id).where(Product.workspace_id == ws)))
    assert taken <= stored


def _stale(run_id: int) -> bool:
    from hub.sync import service

    return service.is_stale(fresh(run_id))
