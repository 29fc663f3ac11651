"""Full Youzan sync of N orders from the sandbox running in its own process (`hub sandbox`).

Prints orders/s end to end, the API calls used, and, in the same run, the time the sandbox
alone takes to serve exactly the same requests (replayed with a bare requests.Session against
the same server: gunicorn, HTTP/1.1 keep-alive), so the hub's own share is visible. Also prints
the CPU time of the hub's process during the sync (less inflated by a busy machine).
Target: the hub's share at least 5,000 orders/s.

    python bench/sync_youzan.py --orders 100000 [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox(orders: int, seed: int, app: str | None = None) -> tuple[subprocess.Popen, str]:
    """The sandbox app under gunicorn (one gthread worker: the shop lives in one process;
    HTTP/1.1 keep-alive, which werkzeug's development server always turns off). ``app`` is
    another platform's sandbox app factory call (default: Youzan's)."""
    port = free_port()
    app = app or f"connectors.youzan.sandbox:create_app({seed}, {orders})"
    cmd = [str(Path(sys.executable).with_name("gunicorn")), "--workers", "1",
           "--worker-class", "gthread", "--threads", "4", "--keep-alive", "30",
           "--timeout", "600", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
           app]  # fmt: skip
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/_sandbox/stats", timeout=1)
            return proc, url
        except requests.RequestException:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the sandbox did not start")


class Recorder:
    """Wraps the connector's HttpClient session: keeps every request to replay it later."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []

    def install(self) -> None:
        import hub.sync.runtime as runtime

        original = runtime.HttpClient
        recorder = self

        class RecordingClient(original):  # type: ignore[misc, valid-type]
            def _send(self, method: str, url: str, **kwargs: Any):  # noqa: ANN202
                recorder.requests.append((method, url, kwargs.get("json")))
                return super()._send(method, url, **kwargs)

        runtime.HttpClient = RecordingClient


def replay(recorded: list[tuple[str, str, Any]], headers: dict[str, str] | None = None) -> float:
    """Seconds a bare client needs to get the same responses (JSON decoded, nothing else);
    ``headers`` on every request (a platform's token header)."""
    session = requests.Session()
    session.headers.update(headers or {})
    started = time.perf_counter()
    for method, url, body in recorded:
        session.request(method, url, json=body, timeout=60).json()
    return time.perf_counter() - started


def run_sync(
    url: str,
    database_url: str,
    connector: str = "connectors.youzan.connector:YouzanConnector",
    settings: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    request: Callable[[int, int], Any] | None = None,
) -> tuple[float, int, dict[str, Any]]:
    """A full sync of the store ``settings`` bind (default: the Youzan sandbox at ``url``) on
    a fresh database, ``config`` added to the app's: (seconds, orders stored, run info).
    ``request(workspace_id, connection_id)`` asks for another run instead (a migration)."""
    from connectors.youzan.sandbox import demo_bind_config
    from hub import create_app
    from hub.extensions import db
    from hub.models import Order, Product, SyncRun, Workspace
    from hub.services import connections
    from hub.sync import engine, service

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CONNECTORS": [connector],
        "ALLOW_INSECURE_DEFAULTS": True,
        "ALLOW_PRIVATE_PLATFORMS": True,  # the sandbox runs on 127.0.0.1
        **(config or {}),
    })  # fmt: skip
    with app.app_context():
        db.drop_all()
        db.create_all()
        ws = Workspace(name="Bench", slug="bench")
        db.session.add(ws)
        db.session.commit()
        platform = connector.split(".")[1]  # connectors.<platform>.connector:Class
        conn = connections.bind(ws.id, platform, settings or demo_bind_config(url))
        if request is None:
            run = service.request_sync(ws.id, conn.id, full=True)
        else:
            run = request(ws.id, conn.id)
        started, cpu = time.perf_counter(), time.process_time()
        status = engine.execute(run.id, job_id=run.job_id)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        run = db.session.get(SyncRun, run.id)
        stored = db.session.query(Order).count()
        info = {"status": status, "api_calls": run.api_calls, "records": run.progress_done,
                "error": run.error_message, "cpu": cpu,
                "products": db.session.query(Product).count()}  # fmt: skip
    return elapsed, stored, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-youzan-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'hub.db'}"
    t0 = time.perf_counter()
    proc, url = start_sandbox(args.orders, args.seed)
    print(f"sandbox: {args.orders} orders generated and served in {time.perf_counter() - t0:.1f}s")
    try:
        recorder = Recorder()
        recorder.install()
        elapsed, stored, info = run_sync(url, database_url)
        records = info["records"]
        alone = replay(recorder.requests)
    finally:
        proc.terminate()
        proc.wait(10)
    hub_share = max(elapsed - alone, 1e-9)
    print(f"database: {database_url.split(':')[0]}")
    print(f"sync: {info['status']} in {elapsed:.1f}s, {records} records read, "
          f"{stored} orders stored, {info['api_calls']} API calls "
          f"({len(recorder.requests)} HTTP requests)")  # fmt: skip
    print(f"end to end: {records / elapsed:,.0f} orders/s")
    print(f"hub process CPU during the sync: {info['cpu']:.1f}s = "
          f"{records / max(info['cpu'], 1e-9):,.0f} orders/s of CPU")  # fmt: skip
    print(f"sandbox alone (same {len(recorder.requests)} requests replayed): {alone:.1f}s")
    rate = records / hub_share
    verdict = "OK" if rate >= 5000 else "BELOW TARGET"
    print(f"hub's share: {hub_share:.1f}s = {rate:,.0f} orders/s (target >= 5,000) -> {verdict}")


if __name__ == "__main__":
    main()
