"""The soak test of issue 20: the hub served by a real HTTP server process, real `hub worker`s,
a redis-server of the test's own and the Youzan sandbox. While signed pushes arrive, an analyst
views the dashboard, spreadsheets are imported and a sync runs, a worker is SIGKILLed (a new one
takes over) and Redis is restarted without its data. In the end every acknowledged push is
stored and processed, counted from this process (not through the server), and the core holds
exactly what the inputs say: the sandbox's truth, the imported customers, and nothing that a
full re-read of the platform would change."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.pool import NullPool

from connectors.sandbox_serving import serve
from connectors.youzan.sandbox import create_app as create_sandbox
from connectors.youzan.sandbox import demo_bind_config
from hub.extensions import db
from hub.models import Connection, Customer, Identity, SyncRun, WebhookDelivery
from hub.services import connections, users
from tests.conftest import ENCRYPTION_KEY
from tests.integration.youzan.conftest import YOUZAN, Sandbox, hub_orders, next_second
from tests.support.dump import dump
from tests.support.served import (
    HUB,
    Processes,
    RedisServer,
    free_port,
    server_command,
    wait_for,
    wait_for_http,
)
from tests.support.spreadsheets import write_csv

pytestmark = pytest.mark.slow

CUSTOMERS = "connectors.customers.connector:CustomersConnector"
PASSWORD = "soak test password"
SANDBOX_ORDERS = 3000
PUSHES = 150  # acknowledged pushes to reach (3 per round, a round a second: one worker
# keeps up with that while it also syncs)
CHANGES_PER_ROUND = 3
IMPORTS = (("first", 0, 300), ("second", 300, 500))  # file, first and last customer number


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = Processes({}, logs)
    yield processes
    processes.stop_all()


@pytest.fixture
def redis_server(procs: Processes, tmp_path: Path) -> RedisServer:
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(procs, free_port(), workdir)
    server.start()
    return server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """This test's own redis-server (it is restarted), not the suite's."""
    return redis_server.url


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [YOUZAN, CUSTOMERS], "ALLOW_PRIVATE_PLATFORMS": True}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    running = serve(create_sandbox(seed=20, orders=SANDBOX_ORDERS))
    yield Sandbox(running)
    running.stop()


def hub_env(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        HUB_DATABASE_URL=database_url,
        HUB_REDIS_URL=redis_url,
        HUB_SECRET_KEY="soak-secret-key",
        HUB_ENCRYPTION_KEY=ENCRYPTION_KEY,
        HUB_CONNECTORS=f"{YOUZAN},{CUSTOMERS}",
        HUB_UPLOAD_FOLDER=str(tmp_path / "uploads"),
        HUB_SYNC_HEARTBEAT_SECONDS="1",
        HUB_SYNC_STALE_SECONDS="5",
        # deliveries stranded by the Redis restart are re-queued by the tick after this long
        HUB_WEBHOOK_STRANDED_SECONDS="15",
        HUB_SYNC_BATCH_SECONDS="0.5",  # progress shows early: the kill lands mid-sync
        HUB_AUTOSYNC_TICK_SECONDS="2",
        HUB_ALLOW_PRIVATE_PLATFORMS="true",  # the sandbox listens on 127.0.0.1
        HUB_SECURE_COOKIES="false",  # plain http on 127.0.0.1
    )
    return env


def hub_cli(procs: Processes, *args: str, timeout: float = 60) -> Any:
    """Run `hub ... --json` in a process of its own; its JSON answer."""
    result = subprocess.run(
        [HUB, *args, "--json"], env=procs.env, cwd=Path(__file__).resolve().parents[2],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, f"hub {' '.join(args)}: {result.stdout}{result.stderr}"
    return json.loads(result.stdout)


def customer_rows(first: int, last: int) -> list[list[str]]:
    return [["Name", "Email", "Tags"]] + [
        [f"Soak Customer {n}", f"kehu{n}@chaye-soak.cn", "soak"] for n in range(first, last)
    ]


def imported(result: dict[str, Any]) -> None:
    """An import that said it created every row of its file."""
    counts = result["counts"]
    assert result["status"] == "succeeded" and counts["failed"] == 0, result
    assert counts["created"] == result["progress"]["total"], result


class Background(threading.Thread):
    """A loop in a thread until ``stop``; its first exception is kept for the assertions."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set() and not self.step():
                pass
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def step(self) -> bool:  # True: done
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)
        assert not self.is_alive(), f"{self.name} did not stop"


class Pusher(Background):
    """Moves the sandbox shop on and has it deliver each change as a signed push to the hub;
    keeps the msg_id of every push the hub acknowledged (200 with "success")."""

    def __init__(self, sandbox: Sandbox, target: int) -> None:
        super().__init__("pusher")
        self.sandbox, self.target = sandbox, target
        self.acked: list[str] = []
        self.refused: list[dict[str, Any]] = []

    def step(self) -> bool:
        self.sandbox.control("advance", changes=CHANGES_PER_ROUND)
        for sent in self.sandbox.control("push/flush")["sent"]:
            (self.acked if sent["acked"] else self.refused).append(
                sent["msg_id"] if sent["acked"] else sent
            )
        # Youzan's times are whole seconds: one round a second keeps the versions apart
        self.stopping.wait(1.0)
        return len(self.acked) >= self.target


class Viewer(Background):
    """An analyst signed in through the login form, opening the dashboard again and again."""

    def __init__(self, base: str, email: str) -> None:
        super().__init__("dashboard viewer")
        self.base = base
        self.http = requests.Session()
        page = self.http.get(f"{base}/login", timeout=30)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        form = {"email": email, "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
        resp = self.http.post(f"{base}/login", data=form, timeout=30, allow_redirects=False)
        assert resp.status_code in (302, 303), f"sign-in as {email}: {resp.status_code}"
        self.views = 0
        self.failures: list[str] = []

    def step(self) -> bool:
        try:
            resp = self.http.get(f"{self.base}/dashboard", timeout=30, allow_redirects=False)
        except requests.RequestException as exc:
            self.failures.append(repr(exc))
        else:
            self.views += 1
            if resp.status_code != 200:
                self.failures.append(f"{resp.status_code}: {resp.text[:200]}")
        self.stopping.wait(0.3)
        return False


def fresh(model: Any, ident: int) -> Any:
    db.session.rollback()
    return db.session.get(model, ident, populate_existing=True)


def deliveries(reader: Engine, msg_ids: list[str]) -> dict[str, str]:
    """delivery id -> status of the stored pushes among ``msg_ids``, read by this process."""
    with reader.connect() as conn:
        rows = conn.execute(select(WebhookDelivery.delivery_id, WebhookDelivery.status)).all()
    wanted = set(msg_ids)
    return {d: s for d, s in rows if d in wanted}


# Columns a re-read of the platform may rewrite without changing what the core says.
VOLATILE = ("created_at", "updated_at", "synced_at", "last_seen_at", "seen_at", "ingested_at")


def test_soak_pushes_dashboards_imports_sync_worker_kill_and_redis_restart(
    app, workspace, sandbox, procs, redis_server, database_url, redis_url, tmp_path
):
    started = time.monotonic()
    procs.env = hub_env(database_url, redis_url, tmp_path)
    config = {**demo_bind_config(sandbox.url), "backoff_seconds": 0.05}
    store_id = connections.bind(workspace.id, "youzan", config).id
    users.create_user("analyst@soak.test", PASSWORD, workspace, role="analyst")
    db.session.commit()
    workspace_id = workspace.id
    files = {}
    for name, first, last in IMPORTS:
        files[name] = write_csv(tmp_path / f"{name}.csv", customer_rows(first, last))
    # While the hub runs, this process reads on connections it closes at once: it holds no
    # lock on a SQLite file that could hide what other processes do to it.
    db.session.remove()
    db.engine.dispose()
    reader = create_engine(database_url, poolclass=NullPool)

    def run_state() -> tuple[str, int, int]:
        with reader.connect() as conn:
            row = conn.execute(
                select(SyncRun.status, SyncRun.progress_done, SyncRun.attempts).where(
                    SyncRun.id == run_id
                )
            ).one()
        return row[0], row[1], row[2]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = procs.start("server", server_command(port))
    procs.start("worker-a", [HUB, "worker"])
    assert wait_for_http(f"{base}/login", server) == 200

    sandbox.control("push/flush")  # the shop's history is not pushed: the sync reads it
    sandbox.control(
        "push", url=f"{base}/webhooks/youzan/{store_id}", retry_delays=[0.2, 0.5, 1.0, 2.0]
    )
    pusher, viewer = Pusher(sandbox, PUSHES), Viewer(base, "analyst@soak.test")
    run_id = hub_cli(procs, "sync", str(store_id))["run_id"]
    viewer.start()
    pusher.start()
    try:
        # the first worker dies mid-sync, while pushes arrive; a new one takes over
        wait_for(lambda: run_state()[1] > 0, 60, "the sync to start")
        killed_mid_sync = run_state()[0] == "running"
        procs.kill("worker-a")
        assert killed_mid_sync, f"the sync ended before the worker was killed: {run_state()}"
        procs.start("worker-b", [HUB, "worker"])
        imported(hub_cli(procs, "import", "customers", str(files["first"]), "--workspace", "acme"))
        # Redis goes away for a while and comes back empty; pushes keep coming
        wait_for(lambda: len(pusher.acked) >= PUSHES // 2 or not pusher.is_alive(), 90, "pushes")
        assert redis_server.command("SET", "soak:before-the-outage", "1") == b"+OK"
        redis_server.stop()
        before_outage = len(pusher.acked)
        time.sleep(3)
        during_outage = len(pusher.acked) - before_outage
        redis_server.start()
        assert redis_server.command("EXISTS", "soak:before-the-outage") == b":0"  # data gone
        imported(hub_cli(procs, "import", "customers", str(files["second"]), "--workspace", "acme"))
        wait_for(lambda: not pusher.is_alive(), 90, f"{PUSHES} acknowledged pushes")
    finally:
        pusher.stop()
        viewer.stop()
    assert pusher.error is None, f"the pusher failed: {pusher.error!r}"
    assert viewer.error is None, f"the dashboard viewer failed: {viewer.error!r}"
    acked = pusher.acked
    assert len(acked) >= PUSHES, f"only {len(acked)} pushes acknowledged: {pusher.refused[:5]}"
    assert during_outage > 0, (
        "no push was acknowledged while Redis was down (the intake needs none)"
    )

    # every acknowledged push is stored, at once: acknowledged means committed
    stored = deliveries(reader, acked)
    lost = sorted(set(acked) - set(stored))
    assert not lost, (
        f"{len(lost)} of {len(acked)} acknowledged pushes are not in the database "
        f"(read from another process): {lost[:5]}\n{procs.tail()}"
    )

    # ... and processed by the surviving worker, within a deadline
    deadline = time.monotonic() + 60
    while True:
        statuses = Counter(deliveries(reader, acked).values())
        if set(statuses) == {"processed"}:
            break
        worker = procs.procs["worker-b"]
        assert worker.poll() is None, (
            f"the worker exited ({worker.returncode}) after the Redis restart, acknowledged "
            f"pushes are left unprocessed: {dict(statuses)}\n{procs.tail()}"
        )
        assert time.monotonic() < deadline, (
            f"acknowledged pushes not all processed after 60 s: {dict(statuses)}\n{procs.tail()}"
        )
        time.sleep(0.5)

    # the sync killed with the first worker ended, resumed, with success
    try:
        wait_for(lambda: run_state()[0] in SyncRun.FINISHED, 60, "the sync to end", step=0.5)
    except AssertionError:
        raise AssertionError(
            f"sync run {run_id} not finished: {run_state()}\n{procs.tail()}"
        ) from None
    run = fresh(SyncRun, run_id)
    assert run.status == "succeeded", f"sync {run.status}: {run.error_message}"
    assert fresh(Connection, store_id).active_run_id is None

    # the core holds what the inputs say: the shop's truth ...
    next_second()  # the last change's second is over
    expected, got = sandbox.expected(), hub_orders(workspace_id)
    missing = sorted(set(expected) - set(got))
    wrong = {t: (got[t], expected[t]) for t in expected if t in got and got[t] != expected[t]}
    assert not missing and not wrong, (
        f"{len(missing)} orders missing {[(t, expected[t]['status']) for t in missing[:5]]}, "
        f"{len(wrong)} differ {list(wrong.items())[:3]} (of {len(expected)}; sync run "
        f"{run_id}: {run_state()})"
    )
    # ... every imported customer, once
    emails = {f"kehu{n}@chaye-soak.cn" for _, first, last in IMPORTS for n in range(first, last)}
    db.session.rollback()
    found = db.session.execute(
        select(Identity.value, func.count(Identity.id))
        .where(Identity.workspace_id == workspace_id, Identity.type == "email")
        .group_by(Identity.value)
    ).all()
    present = {value: n for value, n in found if value in emails}
    assert set(present) == emails and set(present.values()) == {1}, (
        f"{len(emails - set(present))} of {len(emails)} imported customers missing, "
        f"{sum(n > 1 for n in present.values())} doubled"
    )
    customers = db.session.scalar(select(func.count(Customer.id)))
    assert customers >= len(emails)

    # ... and nothing a full re-read of the platform would change (an uninterrupted run)
    before = dump(db.session, ignore=VOLATILE)
    full = hub_cli(procs, "sync", str(store_id), "--full", "--wait", "--timeout", "90", timeout=120)
    assert full["status"] == "succeeded", full
    db.session.rollback()
    after = dump(db.session, ignore=VOLATILE)
    changed = {t: (len(before[t]), len(after[t])) for t in after if after[t] != before[t]}
    assert not changed, f"a full re-sync changed tables (rows before, after): {changed}"
    # the dashboard answered all along (it needs neither Redis nor a worker)
    assert viewer.views > 10 and not viewer.failures, (
        f"{len(viewer.failures)} of {viewer.views} dashboard views failed: "
        f"{[f[:120] for f in viewer.failures[:3]]}\n{procs.tail()}"
    )
    assert time.monotonic() - started < 150
