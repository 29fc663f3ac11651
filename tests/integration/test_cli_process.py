"""The real `hub` console script in subprocesses: a real worker, a real Redis, a real database."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from hub import config, registry
from hub.demo.sandboxes import with_sandbox
from hub.demo.summary import as_text as summary_text
from hub.extensions import db
from hub.jobs.queues import workers_listening
from hub.models import SyncRun
from tests.conftest import ENCRYPTION_KEY
from tests.support.fake_platform import add_connection, make_orders, write_orders

ROOT = Path(__file__).resolve().parents[2]
HUB = str(Path(sys.executable).parent / "hub")


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any HUB_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def hub(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HUB, *args], env=env, cwd=ROOT, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def hub_env(database_url: str, redis_url: str) -> dict[str, str]:
    return clean_env(
        HUB_DATABASE_URL=database_url,
        HUB_REDIS_URL=redis_url,
        HUB_SECRET_KEY="test-secret-key",
        HUB_ENCRYPTION_KEY=ENCRYPTION_KEY,
        HUB_CONNECTORS="tests.support.fake_platform:FakeConnector",
        HUB_SYNC_HEARTBEAT_SECONDS="1",
        HUB_ALLOW_PRIVATE_PLATFORMS="true",
    )


@pytest.fixture
def worker(app: Flask, hub_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen]:
    """`hub worker` in its own process group; stopped (with its work horses) afterwards."""
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [HUB, "worker"], env=hub_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60  # listening before a test asks it for work
    with app.app_context():
        while not workers_listening("sync") and proc.poll() is None:
            assert time.monotonic() < deadline, "hub worker did not start within 60 s"
            time.sleep(0.2)
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


def fake_store(workspace, tmp_path: Path, **settings):
    data_file = tmp_path / f"orders-{len(list(tmp_path.iterdir()))}.json"
    write_orders(data_file, make_orders(24, start=datetime.now(UTC) - timedelta(days=2)))
    return add_connection(workspace.id, data_file, page_size=4, page_delay=0.05, **settings)


def test_missing_secrets_stop_the_app_outside_the_demo(tmp_path: Path) -> None:
    env = clean_env(HUB_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = hub("db", "current", env=env)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "Error: Missing HUB_SECRET_KEY and HUB_ENCRYPTION_KEY. Set them in the environment"
        )
    )
    result = hub("db", "current", "--json", env=env)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "configuration" and "HUB_SECRET_KEY" in error["message"]


@pytest.mark.slow
def test_sync_wait_follows_the_run_to_success(
    worker: subprocess.Popen, workspace, hub_env: dict[str, str], tmp_path: Path
) -> None:
    conn = fake_store(workspace, tmp_path)
    result = hub("sync", str(conn.id), "--wait", "--timeout", "90", "--json", env=hub_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "succeeded" and data["connection_id"] == conn.id
    assert data["progress_done"] == data["progress_total"] == 24
    assert data["error_class"] is None


@pytest.mark.slow
def test_sync_wait_exits_1_with_the_classified_error(
    worker: subprocess.Popen, workspace, hub_env: dict[str, str], tmp_path: Path
) -> None:
    conn = fake_store(workspace, tmp_path, fail_on_page=2, fail_with="config")
    result = hub("sync", str(conn.id), "--wait", "--timeout", "90", env=hub_env)
    assert result.returncode == 1
    db.session.expire_all()
    run = db.session.scalar(select(SyncRun).where(SyncRun.connection_id == conn.id))
    assert (run.status, run.error_class) == ("failed", "configuration")
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: sync run {run.id} failed (configuration): fake platform: api_key revoked"
    )


def _count(db_file: Path, table: str) -> int:
    with sqlite3.connect(db_file) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def demo_once(demo_dir: Path) -> dict:
    result = hub("demo", "--once", "--dir", str(demo_dir), "--orders", "60", "--json",
                 env=clean_env(), timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


# The deliberately bad rows of the shipped samples (connectors/*/samples/).
SAMPLE_FAILURES = {"customers": 3, "sobot-orders": 1, "tmall-orders": 1}
BAD_CUSTOMERS = {"钱多多", "Nobody Known", "Fang Yi"}
BAD_ORDERS = {"sobot": {"SO-240512"}, "tmall": {"1930767890123456"}}
# Orders taken but not stored: Tmall's two states outside I7, and a Sobot order closed
# before it was ever stored (Y7).
NOT_TAKEN = {"sobot": {"SO-240506"}, "tmall": {"1930734567890123", "1930745678901234"}}


def _rows(db_file: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db_file) as con:
        return con.execute(sql, args).fetchall()


def _sample_order_nos(kind: str) -> set[str]:
    """Order numbers in a shipped sample, read plainly (Tmall's ="…" quoting undone)."""
    if kind == "sobot":
        path, encoding, column = ROOT / "connectors/sobot/samples/sobot-orders.csv", "utf-8", 0
    else:
        path, encoding, column = ROOT / "connectors/tmall/samples/ExportOrderList.csv", "gbk", 0
    with path.open(encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    return {row[column].strip('="') for row in rows}


def imports_of(summary: dict) -> dict:
    (step,) = [s for s in summary["steps"] if s["name"] == "hub.demo.samples:import_samples"]
    return step["imports"]


def assert_samples_imported(demo_dir: Path, summary: dict) -> dict[str, set[str]]:
    """The samples' customers and orders are stored, their bad rows counted; the stored
    order numbers by source."""
    db_file = demo_dir / "hub.db"
    imports = imports_of(summary)
    assert {k: v["failed"] for k, v in imports.items()} == SAMPLE_FAILURES
    assert all(v["status"] == "succeeded" for v in imports.values())
    assert summary["failed_rows"] == sum(SAMPLE_FAILURES.values())
    for entry in imports.values():
        assert Path(entry["failure_file"]).is_relative_to(demo_dir)  # kept with the demo
    assert "钱多多" in Path(imports["customers"]["failure_file"]).read_text(encoding="utf-8-sig")
    # "+86 199-1234-5678" and wang.fang@qq.com are one customer, named from the file
    by_mobile = _rows(db_file, "SELECT customer_id FROM identities WHERE type='mobile' AND value=?",
                      "19912345678")  # fmt: skip
    by_email = _rows(db_file, "SELECT customer_id FROM identities WHERE type='email' AND value=?",
                     "wang.fang@qq.com")  # fmt: skip
    assert by_mobile == by_email and len(by_mobile) == 1
    orders: dict[str, set[str]] = {}
    names = {name for (name,) in _rows(db_file, "SELECT name FROM customers")}
    assert {"王芳", "Liu Yang", "许晴"} <= names and not names & BAD_CUSTOMERS
    for source in ("sobot", "tmall"):
        stored = {n for (n,) in _rows(db_file, "SELECT external_id FROM orders WHERE source=?",
                                      source)}  # fmt: skip
        expected = _sample_order_nos(source) - BAD_ORDERS[source] - NOT_TAKEN[source]
        assert stored == expected
        orders[source] = stored
    return orders


@pytest.mark.slow
def test_demo_once_syncs_every_sandbox_and_prints_a_summary(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    summary = demo_once(demo_dir)
    assert summary["failed_syncs"] == 0
    orders = assert_samples_imported(demo_dir, summary)
    imports = imports_of(summary)
    assert imports["sobot-orders"]["created"] == len(orders["sobot"])
    assert imports["tmall-orders"]["created"] == len(orders["tmall"])
    assert imports["customers"]["created"] + imports["customers"]["updated"] == 27
    assert summary["orders"] == _count(demo_dir / "hub.db", "orders")
    assert summary["customers"] == _count(demo_dir / "hub.db", "customers")
    assert summary["events"] == _count(demo_dir / "hub.db", "events")
    platforms = [cls.platform for cls in with_sandbox(registry.load(config.DEFAULT_CONNECTORS))]
    assert sorted(store["platform"] for store in summary["stores"]) == platforms
    assert all(store["status"] == "succeeded" for store in summary["stores"])
    (wechat,) = [store for store in summary["stores"] if store["platform"] == "wechat_shop"]
    migrated = wechat["counts"]["migration"]  # W3: the demo migrates the mini shop
    assert migrated["products"] > 0 and migrated["orders"] > 0
    assert oct((demo_dir / "demo-secrets.json").stat().st_mode & 0o777) == "0o600"
    assert processes_of(demo_dir) == []  # the worker and servers are gone


@pytest.mark.slow
def test_demo_once_again_on_the_same_data_reuses_its_stores(tmp_path: Path) -> None:
    """A second run re-points the bound stores at the new sandbox ports; replays add nothing."""
    demo_dir = tmp_path / "demo"
    first = demo_once(demo_dir)
    before = snapshot(demo_dir / "hub.db")
    again = demo_once(demo_dir)
    ids = [s["connection_id"] for s in first["stores"]]
    assert [s["connection_id"] for s in again["stores"]] == ids
    assert (again["orders"], again["customers"]) == (first["orders"], first["customers"])
    assert snapshot(demo_dir / "hub.db") == before  # the samples imported again change nothing
    assert_samples_imported(demo_dir, again)
    for entry in imports_of(again).values():
        assert (entry["created"], entry["updated"]) == (0, 0)


def snapshot(db_file: Path) -> dict[str, list[tuple]]:
    return {
        "orders": _rows(db_file, "SELECT id, source, external_id, status, amount_total, "
                        "amount_paid, customer_id, version FROM orders ORDER BY id"),
        "lines": _rows(db_file, "SELECT * FROM order_lines ORDER BY id"),
        "customers": _rows(db_file, "SELECT id, name, merged_into_id FROM customers ORDER BY id"),
        "identities": _rows(db_file, "SELECT customer_id, type, value FROM identities ORDER BY id"),
        "events": _rows(db_file, "SELECT COUNT(*) FROM events"),
    }  # fmt: skip


def test_demo_text_summary_shows_the_import_counts() -> None:
    imports = {"customers": {"created": 27, "updated": 0, "failed": 3}}
    step = {"name": "hub.demo.samples:import_samples", "status": "imported", "imports": imports}
    data = {"stores": [], "steps": [step], "orders": 0, "customers": 27, "events": 0,
            "failed_rows": 3}  # fmt: skip
    text = summary_text(data)
    assert "  hub.demo.samples:import_samples: imported" in text
    assert "    import customers: 27 created, 0 updated, 3 failed" in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 180) -> int:
    """The first HTTP status ``url`` answers with, while ``proc`` keeps running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server process exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def processes_of(demo_dir: Path) -> list[int]:
    """Live processes of a demo: those whose environment mentions its directory (the worker
    and its children) or that run inside it (its redis-server works in its data directory)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(demo_dir).encode() in (proc / "environ").read_bytes() or Path(
                os.readlink(proc / "cwd")
            ).is_relative_to(demo_dir):
                found.append(int(proc.name))
        except OSError:  # gone, or a zombie (no environment, no working directory)
            continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_demo_serves_the_ui_until_ctrl_c_then_stops_its_worker(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """Ctrl-C, or the SIGTERM of a supervisor or `kill`, stops the demo with nothing left."""
    demo_dir, port, err = tmp_path / "served-demo", free_port(), tmp_path / "stderr"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [HUB, "demo", "--port", str(port), "--dir", str(demo_dir), "--orders", "20"],
            env=clean_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr,
            stdin=subprocess.DEVNULL, text=True,
        )  # fmt: skip
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/login", proc) == 200
        assert processes_of(demo_dir)  # its worker runs
        proc.send_signal(stop)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        left = processes_of(demo_dir)
        for pid in left:  # a failing run leaves nothing running for the tests after it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 0
    assert f"Tributary demo at http://127.0.0.1:{port}/" in out
    assert "Log in as admin@demo.local / " in out
    assert "Stopping the demo." in err.read_text()
    assert left == []


# A stand-in for the demo's worker: it goes at SIGTERM at once, while its child, in a process
# group of its own as an RQ work horse is, ignores SIGTERM.
LINGERING_CHILD = """
import os, signal, sys, time
if os.fork() == 0:
    os.setpgrp()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(os.getpid(), flush=True)
    time.sleep(60)
    sys.exit(0)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
time.sleep(60)
"""


def test_demo_worker_stop_leaves_nothing_of_its_session_running(tmp_path: Path) -> None:
    from hub.demo.environment import WorkerProcess
    from hub.processes import session_members

    worker = WorkerProcess.__new__(WorkerProcess)
    worker._log = (tmp_path / "worker.log").open("ab")
    worker.proc = subprocess.Popen(
        [sys.executable, "-c", LINGERING_CHILD], stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    assert worker.proc.stdout is not None
    child = int(worker.proc.stdout.readline())
    assert sorted(session_members(worker.proc.pid)) == sorted([worker.proc.pid, child])
    started = time.monotonic()
    worker.stop(timeout=1)
    assert time.monotonic() - started >= 1  # it waited for the child, then killed it
    assert session_members(worker.proc.pid) == []
    assert worker.proc.returncode == 0


def test_sandbox_refuses_an_unknown_platform() -> None:
    result = hub("sandbox", "nowhere", "--port", "1", env=clean_env())
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Error: unknown platform 'nowhere' (registered: ")


def test_sandbox_serves_each_platform_simulator() -> None:
    for cls in with_sandbox(registry.load(config.DEFAULT_CONNECTORS)):
        port = free_port()
        proc = subprocess.Popen(
            [HUB, "sandbox", cls.platform, "--port", str(port), "--orders", "5"],
            env=clean_env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            assert wait_for_http(f"http://127.0.0.1:{port}/", proc, timeout=60) < 500
        finally:
            proc.terminate()
            proc.wait(10)


def test_flask_app_cli_reaches_the_same_group(hub_env: dict[str, str], app: Flask) -> None:
    flask = str(Path(sys.executable).parent / "flask")
    result = subprocess.run(
        [flask, "--app", "wsgi", "hub", "db", "current", "--json"], env=hub_env, cwd=ROOT,
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"revision": None}  # create_all, no migration stamp


def test_demo_once_without_any_sandbox_still_works_and_says_so(tmp_path: Path) -> None:
    env = clean_env(HUB_CONNECTORS="tests.support.fake_platform:FakeConnector")
    result = hub("demo", "--once", "--dir", str(tmp_path / "bare"), env=env)
    assert result.returncode == 0, result.stderr
    assert "No registered connector has a sandbox" in result.stderr
    assert "Stores bound: 0" in result.stdout
    assert "Orders: 0  Customers: 0  Events: 0  Failed rows: 0" in result.stdout
