"""Benchmark: segments (A2) over 100,000 customers and 1,000,000 events, on SQLite.

    python bench/segments.py [--customers 100000] [--events 1000000] [--runs 3]
                             [--database-url postgresql+psycopg://...]

A scratch database is filled with raw inserts (the shape ingest writes: customers, orders with
their lines, one purchase event per order and other events up to --events, tags); then each
segment below is counted by ``hub.automation.segments.count`` (one SQL query) --runs times, and
the median printed beside the peer: the same question answered by pandas over the same rows
read from the database (its read time and its compute time apart). The members found by both
must be the same customers (exit 1 otherwise). Target: every segment under 1 s on SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import scratch_database  # noqa: E402  (bench/ingest.py)

from hub.models.types import sqlite_utc_text  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SKUS = [f"SKU-{i}" for i in range(20)]
EVENT_TYPES = ("page_view", "page_view", "page_view", "add_to_cart", "return", "cancel")
TARGET_S = 1.0

SEGMENTS: dict[str, Any] = {
    "bought SKU-7 >= 2 times in 90 days": [
        {"field": "bought", "op": "gte", "value": {"sku": "SKU-7", "count": 2, "within_days": 90}}
    ],
    "page_view >= 3 in 30 days and tag VIP": [
        {
            "field": "did_event",
            "op": "gte",
            "value": {"type": "page_view", "count": 3, "within_days": 30},
        },
        {"field": "tags", "op": "contains", "value": "vip"},
    ],  # fmt: skip
    "rfm champions": [{"field": "rfm", "op": "eq", "value": "champions"}],
    "total spent >= 500 or orders >= 4": {
        "any": [
            {"field": "total_spent", "op": "gte", "value": "500"},
            {"field": "orders_count", "op": "gte", "value": 4},
        ]
    },
}


def fill(engine: Any, ws: int, customers: int, events: int, seed: int = 7) -> dict[str, int]:
    """Raw DBAPI inserts of the rows (money in cents, times as each database stores them);
    returns the row counts."""
    rnd = random.Random(seed)
    sqlite = engine.dialect.name == "sqlite"
    stamp = (lambda t: sqlite_utc_text(t)) if sqlite else (lambda t: t)
    now = stamp(NOW)
    tables: dict[str, tuple[str, list[tuple]]] = {
        "customers": ("id, workspace_id, name, activity_score, properties, created_at, "
                      "updated_at", []),
        "tags": ("id, workspace_id, name", [(1, ws, "VIP")]),
        "customer_tags": ("customer_id, tag_id", []),
        "orders": ("id, workspace_id, source, external_id, order_no, customer_id, status, "
                   "currency, amount_total, amount_paid, refunded_amount, cancelled_amount, "
                   "ordered_at, version, properties, created_at, updated_at", []),
        "order_lines": ("workspace_id, order_id, external_id, sku_id, name, qty, properties",
                        []),
        "events": ("workspace_id, customer_id, order_id, type, occurred_at, amount, source, "
                   "properties, dedupe_key, created_at", []),
    }  # fmt: skip
    rows = {name: spec[1] for name, spec in tables.items()}
    for i in range(1, customers + 1):
        rows["customers"].append((i, ws, f"c{i}", 0, "{}", now, now))
        if i % 10 == 1:
            rows["customer_tags"].append((i, 1))
    n_orders = events // 3
    for o in range(1, n_orders + 1):
        cid = rnd.randint(1, customers)
        at = stamp(NOW - timedelta(days=rnd.random() * 365))
        cents = rnd.randint(10, 400) * 100
        rows["orders"].append((o, ws, "youzan", str(o), str(o), cid, "paid", "CNY", cents,
                               cents, 0, 0, at, 0, "{}", now, now))  # fmt: skip
        for k in range(rnd.choice((1, 1, 2))):
            rows["order_lines"].append((ws, o, str(k), rnd.choice(SKUS), "tea", 1, "{}"))
        rows["events"].append((ws, cid, o, "purchase", at, cents, "youzan", "{}", f"p{o}", now))
    for e in range(events - n_orders):
        at = stamp(NOW - timedelta(days=rnd.random() * 90))
        rows["events"].append((ws, rnd.randint(1, customers), None, rnd.choice(EVENT_TYPES), at,
                               None, "youzan", "{}", f"e{e}", now))  # fmt: skip
    mark = "?" if sqlite else "%s"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for name, (columns, data) in tables.items():
            marks = ", ".join([mark] * len(columns.split(",")))
            cur.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks})", data)
        raw.commit()
    finally:
        raw.close()
    return {name: len(data) for name, data in rows.items() if name != "tags"}


def load_frames(engine: Any) -> dict[str, Any]:
    """The peer's rows: pandas.read_sql of the tables the questions need."""
    import pandas as pd

    with engine.connect() as con:
        return {
            "orders": pd.read_sql("SELECT id, customer_id, status, amount_paid, ordered_at "
                                  "FROM orders", con, parse_dates=["ordered_at"]),
            "lines": pd.read_sql("SELECT order_id, sku_id FROM order_lines", con),
            "events": pd.read_sql("SELECT customer_id, type, occurred_at FROM events", con,
                                  parse_dates=["occurred_at"]),
            "tags": pd.read_sql("SELECT ct.customer_id, t.name FROM customer_tags ct "
                                "JOIN tags t ON t.id = ct.tag_id", con),
        }  # fmt: skip


def pandas_answers(f: dict[str, Any]) -> dict[str, Callable[[], set[int]]]:
    """Each segment's members computed by pandas over the frames."""
    import pandas as pd

    from hub.analytics import rfm_scores

    now = pd.Timestamp(NOW.replace(tzinfo=None))
    o, li, ev, tags = f["orders"], f["lines"], f["events"], f["tags"]
    if o["ordered_at"].dt.tz is not None:
        now = now.tz_localize("UTC")

    def bought() -> set[int]:
        recent = o[o["status"].isin(["paid", "shipped", "completed"])
                   & (o["ordered_at"] >= now - pd.Timedelta(days=90))]  # fmt: skip
        hit = recent[recent["id"].isin(li.loc[li["sku_id"] == "SKU-7", "order_id"])]
        counts = hit.groupby("customer_id")["id"].nunique()
        return set(counts[counts >= 2].index.astype(int))

    def viewed_vip() -> set[int]:
        e = ev[(ev["type"] == "page_view") & (ev["occurred_at"] >= now - pd.Timedelta(days=30))]
        counts = e.groupby("customer_id").size()
        vip = set(tags.loc[tags["name"].str.lower() == "vip", "customer_id"])
        return set(counts[counts >= 3].index.astype(int)) & vip

    def champions() -> set[int]:
        tx = o.dropna(subset=["customer_id"]).rename(columns={"amount_paid": "amount"})
        scores = rfm_scores(tx[["customer_id", "ordered_at", "amount"]])
        return set(scores.index[scores["segment"] == "champions"].astype(int))

    def spenders() -> set[int]:
        paid = o[o["status"].isin(["paid", "shipped", "completed"])]
        per = paid.groupby("customer_id").agg(n=("id", "size"), total=("amount_paid", "sum"))
        return set(per[(per["total"] >= 50_000) | (per["n"] >= 4)].index.astype(int))

    return dict(zip(SEGMENTS, (bought, viewed_vip, champions, spenders), strict=True))


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """Median wall time, median CPU time of this process (SQLite works in it: its share of
    a busy machine's cores aside) and the last answer."""
    walls, cpus, out = [], [], None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ.setdefault("HUB_ALLOW_INSECURE_DEFAULTS", "true")
    from hub import create_app
    from hub.automation import segments
    from hub.extensions import db
    from hub.models import Workspace

    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(args.database_url, workdir, "segments") as url,
    ):
        app = create_app({
                "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{workdir}/hub.db",
                "SECRET_KEY": "bench", "ENCRYPTION_KEY": "bench", "CONNECTORS": [],
                "ALLOW_INSECURE_DEFAULTS": True,
            })  # fmt: skip
        with app.app_context():
            db.create_all()
            ws = Workspace(name="bench", slug="bench")
            db.session.add(ws)
            db.session.commit()
            t = time.perf_counter()
            sizes = fill(db.engine, ws.id, args.customers, args.events)
            took = time.perf_counter() - t
            print(f"{db.engine.dialect.name}: {sizes} written in {took:.1f} s")
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as con:
                    con.exec_driver_sql("ANALYZE")
            load_s, _cpu, frames = timed(lambda: load_frames(db.engine), 1)
            peers = pandas_answers(frames)
            print(f"peer: pandas.read_sql of the rows: {load_s:.2f} s (once)")
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            head = f"{'segment':40} {'members':>8} {'hub SQL':>8} {'(CPU)':>7} {'pandas':>8}"
            print(f"{head} {'(CPU)':>7}  same")
            failed = False
            for name, tree in SEGMENTS.items():

                def ask(tree: Any = tree) -> int:
                    return segments.count(db.session, ws.id, tree, now=NOW)

                hub_s, hub_cpu, count = timed(ask, args.runs)
                stmt = segments.member_ids(db.session, ws.id, tree, now=NOW)
                ours = set(db.session.scalars(stmt))
                peer_s, peer_cpu, theirs = timed(peers[name], args.runs)
                same = ours == theirs and count == len(ours)
                fast = hub_s < TARGET_S or db.engine.dialect.name != "sqlite"
                failed |= not same or not fast
                verdict = ("yes" if same else "DIFFERENT") + ("" if fast else " SLOW")
                print(f"{name:40} {count:>8} {hub_s:>7.3f}s {hub_cpu:>6.3f}s {peer_s:>7.3f}s "
                      f"{peer_cpu:>6.3f}s  {verdict}")  # fmt: skip
            db.session.remove()
            db.engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
