"""WeChat Mini Shop migration of an N-order, M-product mini shop from the sandbox running in
its own process (``connectors.wechat_shop.sandbox_server`` under gunicorn, as
bench/sync_youzan.py serves Youzan's). In one run:

1. sandbox alone, first pass: a bare client (requests, orjson decoding, nothing else) takes a
   token and pages every listing a migration reads, 100 a page (the sandbox's cap): SPUs of
   the taken statuses 5, 11, 12, 13 and every order. The sandbox renders each order on first
   use and keeps its JSON until the order changes, so this pass is also its rendering cost;
2. the hub: ``--runs`` migrations, each on a fresh database: bind (the connection service),
   then the migration run (``hub.services.migration.request_migration``: a SyncRun with
   trigger "migration", ``full=True``; where that service is absent, a full sync) executed
   by the sync engine in this process, every HTTP request recorded;
3. sandbox alone, same requests: each run's requests replayed by the bare client (the
   ceiling: no migration can take less). The hub's share is the hub's time minus this.

Target: the hub's share at least 5,000 orders/s (the shop's orders over the hub's share). The
hub process's CPU time is printed too (less inflated by a busy machine than wall time).

    python bench/migrate_wechat.py [--orders 50000] [--products 2000] [--runs 3]
                                   [--database-url postgresql+psycopg://...] [--sandbox-only]

Exits 1 when a migration fails, or when the runs do not store the same orders and products.
The shop's orders by status (its ground truth) are printed beside what was stored.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import scratch_database  # noqa: E402  (bench/ingest.py)
from sync_youzan import run_sync, start_sandbox  # noqa: E402

CONNECTOR = "connectors.wechat_shop.connector:WechatShopConnector"
PAGE = 100
TAKEN_SPU_STATUSES = (5, 11, 12, 13)
NOISE = 0.05  # a share under 5% of the end-to-end time is not a figure


class Recorder:
    """Every request the hub's HttpClient sends (method, url, body bytes, headers)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any, Any]] = []

    def install(self) -> None:
        from hub.sync.http import HttpClient

        original = HttpClient._send
        recorder = self

        def recording(client: Any, method: str, url: str, **kwargs: Any) -> Any:
            recorder.requests.append((method, url, kwargs.get("data"), kwargs.get("json")))
            return original(client, method, url, **kwargs)

        HttpClient._send = recording  # type: ignore[method-assign]


def replay(recorded: list[tuple[str, str, Any, Any]]) -> float:
    """Seconds a bare client needs for the same responses (orjson-decoded, nothing else)."""
    session = requests.Session()
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    for method, url, data, body in recorded:
        resp = session.request(method, url, data=data, json=body, headers=headers, timeout=120)
        orjson.loads(resp.content)
    return time.perf_counter() - started


def control(url: str, path: str, **body: Any) -> Any:
    resp = requests.post(f"{url}/_sandbox/{path}", json=body, timeout=60)
    resp.raise_for_status()
    return resp.json()


def truth(url: str) -> dict[str, Any]:
    return requests.get(f"{url}/_sandbox/truth", timeout=120).json()


def page_everything(url: str) -> tuple[float, int, int, int]:
    """A bare client takes a token and pages SPUs (taken statuses) and orders:
    (seconds, requests, records, bytes)."""
    from connectors.wechat_shop.sandbox_data import APPID, SECRET

    session = requests.Session()
    started = time.perf_counter()
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    token = session.get(f"{url}/cgi-bin/token", params=params, timeout=60).json()["access_token"]
    calls, records, size = 1, 0, 0
    listings = [("spu/get_list", "spus", {"status": s}) for s in TAKEN_SPU_STATUSES]
    listings.append(("order/get_list", "orders", {}))
    for path, key, body in listings:
        page = 1
        while True:
            resp = session.post(f"{url}/product/{path}", params={"access_token": token},
                                data=orjson.dumps({**body, "page": page, "page_size": PAGE}),
                                timeout=120)  # fmt: skip
            data = orjson.loads(resp.content)
            calls, size, records = calls + 1, size + len(resp.content), records + len(data[key])
            if page * PAGE >= data["total_num"]:
                break
            page += 1
    return time.perf_counter() - started, calls, records, size


def sandbox_pass(url: str, label: str) -> None:
    seconds, calls, records, size = page_everything(url)
    print(f"sandbox alone, {label}: {records:,} records in {calls} requests "
          f"({size / 1e6:,.0f} MB) in {seconds:.1f}s = "
          f"{records / seconds:,.0f} records/s")  # fmt: skip


def migrate(url: str, database_url: str) -> tuple[float, dict[str, Any]]:
    """Bind the sandbox's mini shop on a fresh database and migrate it: (seconds, info)."""
    from connectors.wechat_shop.sandbox_server import demo_bind_config
    from hub.services import migration

    elapsed, stored, info = run_sync(
        url, database_url, CONNECTOR, demo_bind_config(url), request=migration.request_migration
    )
    return elapsed, {**info, "kind": "migration", "orders": stored}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--sandbox-only", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    app = (f"connectors.wechat_shop.sandbox_server:create_app({args.seed}, {args.orders}, "
           f"products={args.products})")  # fmt: skip
    proc, url = start_sandbox(args.orders, args.seed, app)
    print(f"sandbox: a {args.orders:,}-order, {args.products:,}-product mini shop generated "
          f"and served in {time.perf_counter() - started:.1f}s")  # fmt: skip
    try:
        control(url, "tokens", overlap=86_400)  # the replays' token fetches revoke nothing
        sandbox_pass(url, "first pass (renders every order)")
        if args.sandbox_only:
            sandbox_pass(url, "second pass (orders rendered)")
            return 0
        tmp = tempfile.mkdtemp(prefix="bench-wechat-")
        with scratch_database(args.database_url, tmp, "wechat") as scratch:
            return hub_passes(args, url, scratch or f"sqlite:///{Path(tmp) / 'hub-{n}.db'}")
    finally:
        proc.terminate()
        proc.wait(10)


def hub_passes(args: argparse.Namespace, url: str, database_url: str) -> int:
    shop = truth(url)
    orders = shop["orders"]
    recorder = Recorder()
    recorder.install()
    print(f"database: {database_url.split(':')[0]}, fresh for each run; the shop holds "
          f"{orders:,} orders "
          f"(by status {shop['orders_by_status']}) and {sum(shop['spus_by_status'].values()):,} "
          f"SPUs (by status {shop['spus_by_status']})")  # fmt: skip
    rates: list[float] = []
    cpu_rates: list[float] = []
    first: tuple[int, int] | None = None
    for n in range(1, args.runs + 1):
        recorder.requests.clear()
        # SQLite: a new file per run (dropping a full database's tables checks every foreign
        # key row by row: minutes at this size, none of it the migration's)
        elapsed, info = migrate(url, database_url.replace("{n}", str(n)))
        recorded = list(recorder.requests)
        stored = (info["orders"], info["products"])
        if info["status"] != "succeeded" or stored != (first or stored):
            print(f"run {n}: {info['kind']} {info['status']}, {stored[0]:,} orders and "
                  f"{stored[1]:,} products stored ({info['error']})")  # fmt: skip
            return 1
        first = stored
        cpu_rates.append(orders / max(info["cpu"], 1e-9))
        alone = replay(recorded)
        share = max(elapsed - alone, 1e-9)
        if share >= NOISE * elapsed:
            rates.append(orders / share)
        print(f"run {n}: {info['kind']} {info['status']} in {elapsed:.1f}s, "
              f"{info['records']:,} records read, {info['orders']:,} orders and "
              f"{info['products']:,} products stored, {len(recorded)} HTTP requests; "
              f"hub CPU {info['cpu']:.1f}s = {orders / max(info['cpu'], 1e-9):,.0f} orders/s "
              f"of CPU")  # fmt: skip
        print(f"  sandbox alone, the same {len(recorded)} requests replayed (ceiling): "
              f"{alone:.1f}s = {orders / max(alone, 1e-9):,.0f} orders/s")  # fmt: skip
        print(f"  end to end: {orders / elapsed:,.0f} orders/s; hub's share: {share:.1f}s = "
              f"{orders / share:,.0f} orders/s")  # fmt: skip
    rate = statistics.median(rates) if rates else 0.0
    verdict = "OK" if rate >= 5000 else "BELOW TARGET"
    print(f"hub's share (median of {len(rates)}): {rate:,.0f} orders/s "
          f"(target >= 5,000) -> {verdict}; hub CPU (median): "
          f"{statistics.median(cpu_rates):,.0f} orders/s of CPU (less inflated by a busy "
          f"machine)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
