"""Full Shopify sync of an N-order shop from the sandbox running in its own process.

The sandbox (``connectors.shopify.sandbox_server``'s app: REST Admin API 2025-01, Link paging,
the leaky bucket) runs under gunicorn as bench/sync_youzan.py runs Youzan's. In one run:

1. sandbox alone, first pass: a bare client (requests, JSON decoded, nothing else) pages every
   listing a sync reads, 250 a page: orders ``status=any``, customers, products, abandoned
   checkouts, ``events.json?verb=destroy``. The sandbox renders each record on first use and
   keeps its JSON until the shop changes, so this pass is also the sandbox's rendering cost;
2. the hub: ``--runs`` full syncs (the connection service's bind, then the sync engine, on a
   fresh database each), every HTTP request recorded, with the leaky bucket opened wide
   through the control API (``POST /_sandbox/limits``) so that waiting out 429s is not timed.
   One more sync before them warms the sandbox up (it renders records as the hub's requests
   trim them, ``fields=``, on first use) and is printed but not counted;
3. sandbox alone, same requests: the hub's requests replayed by the bare client (the ceiling:
   no sync can take less). The hub's share is the hub's time minus this;
4. throttled: one more full sync with Shopify's own bucket (40 requests, leaking
   ``--leak-rate``/s, Shopify's 2 by default): the 429s the sandbox answered and the hub
   survived (the same orders stored as in pass 2);
5. peer: bench/sync_youzan.py's sync of a Youzan shop of the same size, its share measured
   the same way (skip with ``--no-peer``).

Target: the hub's share at least 5,000 orders/s.

    python bench/sync_shopify.py --orders 100000 [--runs 3] [--database-url postgresql+psycopg://...]
                                 [--bucket-size 40] [--leak-rate 2] [--no-throttled] [--no-peer]
                                 [--sandbox-only]

With ``--sandbox-only`` only pass 1 runs (twice: the second pass serves rendered records).
Exits 1 when a hub pass fails, or when the runs and the throttled pass do not store the same
orders. The hub paces itself on ``X-Shopify-Shop-Api-Call-Limit``, so few 429s (or none) is
the expected count at Shopify's own bucket.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import scratch_database  # noqa: E402  (bench/ingest.py)
from sync_youzan import Recorder, replay, run_sync, start_sandbox  # noqa: E402

CONNECTOR = "connectors.shopify.connector:ShopifyConnector"
API_VERSION = "2025-01"
# What a sync reads (issue 23): orders of every status, customers, products, abandoned
# checkouts, and the deletions in events.json.
LISTINGS = (
    ("orders", {"status": "any"}),
    ("customers", {}),
    ("products", {}),
    ("checkouts", {"status": "any"}),
    ("events", {"verb": "destroy"}),
)
WIDE_OPEN = {"bucket_size": 1_000_000_000, "leak_rate": 1_000_000_000.0}
# the sandbox's shop spans 400 days: the first sync's window takes every order in
CONFIG = {"SYNC_INITIAL_DAYS": 1000}
NOISE = 0.05  # a share under 5% of the end-to-end time is not a figure


def token_header() -> dict[str, str]:
    from connectors.shopify.sandbox_data import ACCESS_TOKEN

    return {"X-Shopify-Access-Token": ACCESS_TOKEN}


def control(url: str, path: str, **body: Any) -> Any:
    resp = requests.post(f"{url}/_sandbox/{path}", json=body, timeout=60)
    resp.raise_for_status()
    return resp.json()


def stats(url: str) -> dict[str, int]:
    return requests.get(f"{url}/_sandbox/stats", timeout=60).json()


def page_everything(url: str) -> tuple[float, int, int, int, float]:
    """A bare client pages every listing (Link paging, 250 a page, JSON decoded):
    (seconds, requests, records, bytes, seconds of them spent decoding JSON)."""
    session = requests.Session()
    session.headers.update(token_header())
    calls = records = size = 0
    decoding = 0.0
    started = time.perf_counter()
    for kind, params in LISTINGS:
        query = {"limit": "250", **params}
        next_url: str | None = f"{url}/admin/api/{API_VERSION}/{kind}.json"
        while next_url:
            resp = session.get(next_url, params=query, timeout=120)
            resp.raise_for_status()
            calls += 1
            size += len(resp.content)
            decode_started = time.perf_counter()
            records += len(resp.json()[kind])
            decoding += time.perf_counter() - decode_started
            next_url = resp.links.get("next", {}).get("url")
            query = {}  # the next link carries page_info and limit
    return time.perf_counter() - started, calls, records, size, decoding


def sandbox_pass(url: str, label: str) -> None:
    seconds, calls, records, size, decoding = page_everything(url)
    print(f"sandbox alone, {label}: {records:,} records in {calls} requests "
          f"({size / 1e6:,.0f} MB) in {seconds:.1f}s = {records / seconds:,.0f} records/s; "
          f"served in {seconds - decoding:.1f}s, JSON decoded by the client in "
          f"{decoding:.1f}s")  # fmt: skip


def hub_sync(url: str, database_url: str) -> tuple[float, int, dict[str, Any]]:
    from connectors.shopify.sandbox_server import demo_bind_config

    return run_sync(url, database_url, CONNECTOR, demo_bind_config(url), CONFIG)


def shop_orders(url: str) -> int:
    """Orders the shop holds, of every status (``orders/count.json``)."""
    resp = requests.get(f"{url}/admin/api/{API_VERSION}/orders/count.json",
                        params={"status": "any"}, headers=token_header(), timeout=60)  # fmt: skip
    resp.raise_for_status()
    return int(resp.json()["count"])


def youzan_peer(orders: int, seed: int, database_url: str, recorder: Recorder) -> float | None:
    """The Youzan sync of a shop of the same size, its share measured as for Shopify:
    orders/s of the hub's share, or None when it failed."""
    proc, url = start_sandbox(orders, seed)
    try:
        recorder.requests.clear()
        elapsed, stored, info = run_sync(url, database_url, config=CONFIG)
        alone = replay(list(recorder.requests))
    finally:
        proc.terminate()
        proc.wait(10)
    if info["status"] != "succeeded":
        print(f"peer: Youzan sync {info['status']}: {info['error']}")
        return None
    share = elapsed - alone
    if share < NOISE * elapsed:
        print(f"peer: Youzan, {orders:,} orders: {elapsed:.1f}s end to end, sandbox alone "
              f"{alone:.1f}s: the hub's share is within the noise at this size")  # fmt: skip
        return None
    rate = info["records"] / share
    print(f"peer: Youzan, {orders:,} orders: {elapsed:.1f}s end to end, sandbox alone "
          f"{alone:.1f}s, hub's share {share:.1f}s = {rate:,.0f} orders/s")  # fmt: skip
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--leak-rate", type=float, default=2.0,
                        help="the throttled pass's leak per second (Shopify: 2)")  # fmt: skip
    parser.add_argument("--bucket-size", type=int, default=40,
                        help="the throttled pass's bucket size (Shopify: 40)")  # fmt: skip
    parser.add_argument("--no-throttled", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--sandbox-only", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    app = f"connectors.shopify.sandbox_server:create_app({args.seed}, {args.orders})"
    proc, url = start_sandbox(args.orders, args.seed, app)
    print(f"sandbox: a {args.orders:,}-order shop generated and served in "
          f"{time.perf_counter() - t0:.1f}s")  # fmt: skip
    try:
        control(url, "limits", **WIDE_OPEN)  # the bucket only in the throttled pass
        sandbox_pass(url, "first pass (renders every record)")
        if args.sandbox_only:
            sandbox_pass(url, "second pass (records rendered)")
            return 0
        # on PostgreSQL a scratch database on the URL's server: the URL's own stays untouched
        tmp = tempfile.mkdtemp(prefix="bench-shopify-")
        with scratch_database(args.database_url, tmp, "shopify") as scratch:
            return hub_passes(args, url, scratch or f"sqlite:///{Path(tmp) / 'hub.db'}")
    finally:
        proc.terminate()
        proc.wait(10)


def hub_passes(args: argparse.Namespace, url: str, database_url: str) -> int:
    expected = shop_orders(url)
    recorder = Recorder()
    recorder.install()
    print(f"database: {database_url.split(':')[0]}; the shop holds {expected:,} orders "
          f"(orders/s below: the shop's orders synced per second)")  # fmt: skip
    rates: list[float] = []
    stored_first: int | None = None
    # run 0 warms the sandbox up: it renders the records as the hub asks for them (its
    # ``fields=``) on first use, a cost that is the sandbox's, not the hub's; not counted
    for n in range(args.runs + 1):
        recorder.requests.clear()
        try:
            elapsed, stored, info = hub_sync(url, database_url)
        except Exception as exc:  # noqa: BLE001  (the connector may not bind yet)
            print(f"hub pass: the Shopify connector did not bind: {exc}")
            return 1
        recorded = list(recorder.requests)
        if info["status"] != "succeeded" or stored != (stored_first or stored):
            print(f"hub pass {n}: {info['status']}, {stored:,} orders stored ({info['error']})")
            return 1
        stored_first = stored
        alone = replay(recorded, token_header())
        share = max(elapsed - alone, 1e-9)
        if n and share >= NOISE * elapsed:
            rates.append(expected / share)
        label = f"run {n}" if n else "run 0 (warm-up: not counted)"
        print(f"{label}: sync {info['status']} in {elapsed:.1f}s, {info['records']:,} records "
              f"read, {stored:,} orders stored, {len(recorded)} HTTP requests; hub CPU "
              f"{info['cpu']:.1f}s")  # fmt: skip
        print(f"  sandbox alone, the same {len(recorded)} requests replayed (ceiling): "
              f"{alone:.1f}s = {expected / max(alone, 1e-9):,.0f} orders/s")  # fmt: skip
        print(f"  end to end: {expected / elapsed:,.0f} orders/s; hub's share: {share:.1f}s = "
              f"{expected / share:,.0f} orders/s")  # fmt: skip
    rate = statistics.median(rates) if rates else 0.0
    verdict = "OK" if rate >= 5000 else "BELOW TARGET"
    print(f"hub's share (median of {len(rates)}): {rate:,.0f} orders/s "
          f"(target >= 5,000) -> {verdict}")  # fmt: skip
    status = 0
    if not args.no_throttled:
        bucket = (args.bucket_size, args.leak_rate)
        status = throttled_pass(url, database_url, bucket, stored_first or 0)
    if not args.no_peer:
        peer = youzan_peer(args.orders, args.seed, database_url, recorder)
        if peer and rate:
            print(f"Shopify / Youzan (hub's share): {rate / peer:.2f}x")
    return status


def throttled_pass(url: str, database_url: str, bucket: tuple[int, float], expected: int) -> int:
    """One full sync against a leaky bucket (Shopify's: 40 requests, leaking 2/s): the 429s
    survived, and the same ``expected`` orders stored as without the bucket."""
    size, leak_rate = bucket
    control(url, "limits", bucket_size=size, leak_rate=leak_rate)
    before = stats(url)
    elapsed, stored, info = hub_sync(url, database_url)
    after = stats(url)
    throttled = after["throttled"] - before["throttled"]
    control(url, "limits", **WIDE_OPEN)
    ok = info["status"] == "succeeded" and stored == expected
    print(f"throttled (bucket {size}, leaking {leak_rate:g}/s): sync {info['status']} "
          f"in {elapsed:.1f}s, {after['requests'] - before['requests']} HTTP requests, "
          f"{throttled} 429s survived, {stored:,} of {expected:,} orders stored "
          f"-> {'OK' if ok else 'FAILED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
