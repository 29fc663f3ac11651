"""Benchmark: what H3's tombstones cost ingest (``hub.core.ingest.apply`` on SQLite).

    python bench/tombstones.py [--orders 20000] [--tombstones 10000] [--runs 5]

Three cases, taking turns run by run, each in a fresh database: ``none`` (no customer ever
deleted: one probe per batch, nothing hashed), ``unrelated`` (--tombstones digests of deleted
customers none of the orders' buyers carry: every buyer's identities are hashed and looked up
in memory) and ``buried`` (the same, plus 1 % of the buyers deleted: their orders are taken
without a contact). Prints the median orders per CPU-second of the process (all its
threads): a shared machine's load moves wall-clock figures more than the cases differ.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run(case: str, n: int, tombstones: int, workdir: str) -> float:
    os.environ.setdefault("HUB_ALLOW_INSECURE_DEFAULTS", "true")
    from hub import create_app
    from hub.core import ingest
    from hub.core.plan.tombstones import digest
    from hub.extensions import db
    from hub.models import CustomerTombstone, Workspace
    from tests.support.orders import shop_batch

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/{case}.db",
                      "SECRET_KEY": "bench", "ENCRYPTION_KEY": "bench", "CONNECTORS": [],
                      "ALLOW_INSECURE_DEFAULTS": True})  # fmt: skip
    buyers = 10_000
    with app.app_context():
        db.create_all()
        ws = Workspace(name="bench", slug="bench")
        db.session.add(ws)
        db.session.flush()
        digests = []
        if case != "none":
            digests = [digest("yz_open_id", f"gone{i:07d}") for i in range(tombstones)]
        if case == "buried":
            digests += [digest("yz_open_id", f"yz{b:07d}") for b in range(0, buyers, 100)]
        db.session.add_all(CustomerTombstone(workspace_id=ws.id, digest=d) for d in digests)
        db.session.commit()
        elapsed = 0.0
        for start in range(0, n, 5000):
            batch = shop_batch(start, min(5000, n - start), buyers)
            t = time.process_time()
            ingest.apply(db.session, ws.id, batch)
            elapsed += time.process_time() - t
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--tombstones", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cases = ("none", "unrelated", "buried")
    rates: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(args.runs):
        for case in cases:
            with tempfile.TemporaryDirectory() as workdir:
                rates[case].append(run(case, args.orders, args.tombstones, workdir))
    print(f"{args.orders:,} orders, 10,000 buyers, batches of 5000, {args.tombstones:,} "
          f"tombstones, median of {args.runs} interleaved runs, on SQLite")  # fmt: skip
    for case in cases:
        each = ", ".join(f"{r:,.0f}" for r in rates[case])
        print(f"{case:<10} {statistics.median(rates[case]):>8,.0f} orders per CPU-s   ({each})")


if __name__ == "__main__":
    main()
