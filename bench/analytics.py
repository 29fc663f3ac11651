"""Benchmark: the analytics library beside the reference tools, in one run.

    python bench/analytics.py [--transactions 1000000] [--customers 100000] [--baskets 100000]
                              [--report-orders 1000000] [--runs 3] [--skip-report]

- rfm:    ``rfm_summary`` vs lifetimes' ``summary_data_from_transaction_data`` on the same
          transactions (target: >= 4x faster, identical results);
- basket: ``basket_pairs`` (from the raw lines) vs mlxtend's fastest pair miner (fpgrowth or
          hmine, max_len=2, given a ready one-hot frame) + ``association_rules`` restricted to
          one-to-one rules (target: >= 4x faster, identical rules); apriori is listed with
          --with-apriori (it takes minutes at this size);
- loaders: the loaders' SQLite read path beside pandas.read_sql (peer) and a bare fetchall
          (ceiling) on --loader-orders orders;
- report: the full ``hub report`` (every notebook, 2 kernels) on a database of --report-orders
          orders written through ``ingest.apply`` once and kept at --db (target: < 60 s).

Medians of --runs runs are printed beside each other.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.analytics import basket_pairs, rfm_summary  # noqa: E402


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time of ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def transactions(n: int, customers: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01T00:00:00")
    seconds = rng.integers(0, 730 * 86_400, n)
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, n),
            "ordered_at": start + seconds.astype("timedelta64[s]"),
            "amount": rng.integers(100, 50_000, n) / 100,
        }
    )


def bench_rfm(args: argparse.Namespace) -> None:
    with warnings.catch_warnings():  # lifetimes 0.11 sets a pandas option deprecated in pandas 3
        warnings.simplefilter("ignore")
        from lifetimes.utils import summary_data_from_transaction_data as reference
    df = transactions(args.transactions, args.customers)
    end = "2024-12-31"
    ours_s, ours = timed(
        lambda: rfm_summary(df, "customer_id", "ordered_at", "amount", end), args.runs
    )
    ref_s, ref = timed(
        lambda: reference(df, "customer_id", "ordered_at", "amount", observation_period_end=end),
        args.runs,
    )
    ref = ref.sort_index()
    same = ours.index.equals(ref.index) and np.allclose(ours, ref, rtol=1e-12, atol=1e-9)
    print(
        f"rfm_summary  {len(df):>9,} tx {ours.shape[0]:>7,} customers   "
        f"hub {ours_s:7.2f} s   lifetimes {ref_s:7.2f} s   x{ref_s / ours_s:5.1f}   "
        f"identical={same} (max abs diff {float((ours - ref).abs().max().max()):.1e})"
    )


def baskets(n: int, items: int = 300, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, items + 1) ** 0.9
    sizes = rng.integers(1, 6, n)
    basket = np.repeat(np.arange(n), sizes)
    item = rng.choice(items, size=len(basket), p=weights / weights.sum())
    return pd.DataFrame({"order_id": basket, "product": [f"sku-{i:03d}" for i in item]})


def mlxtend_pairs(onehot: pd.DataFrame, miner: Callable, support: float) -> pd.DataFrame:
    from mlxtend.frequent_patterns import association_rules

    found = miner(onehot, min_support=support, use_colnames=True, max_len=2)
    rules = association_rules(found, num_itemsets=len(onehot), metric="lift", min_threshold=0)
    rules = rules[(rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)]
    return pd.DataFrame(
        {
            "antecedent": rules["antecedents"].map(lambda s: next(iter(s))),
            "consequent": rules["consequents"].map(lambda s: next(iter(s))),
            "support": rules["support"],
            "confidence": rules["confidence"],
            "lift": rules["lift"],
            "leverage": rules["leverage"],
        }
    )


def bench_basket(args: argparse.Namespace) -> None:
    from mlxtend.frequent_patterns import apriori, fpgrowth, hmine

    lines = baskets(args.baskets)
    support = args.min_support
    onehot = pd.crosstab(lines["order_id"], lines["product"]).astype(bool)
    ours_s, ours = timed(lambda: basket_pairs(lines, "order_id", "product", support), args.runs)
    miners = [fpgrowth, hmine] + ([apriori] if args.with_apriori else [])
    results = {m.__name__: timed(lambda m=m: mlxtend_pairs(onehot, m, support), args.runs)
               for m in miners}  # fmt: skip
    fastest = min(results, key=lambda k: results[k][0])
    ref_s, ref = results[fastest]
    key = ["antecedent", "consequent"]
    a, b = ours.sort_values(key, ignore_index=True), ref.sort_values(key, ignore_index=True)
    same = a[key].equals(b[key]) and np.allclose(a.iloc[:, 2:], b.iloc[:, 2:], rtol=1e-12)
    others = "  ".join(f"{k} {v[0]:.2f} s" for k, v in results.items())
    print(
        f"basket_pairs {args.baskets:>9,} baskets {len(ours):>5} rules   hub {ours_s:7.2f} s   "
        f"mlxtend {fastest} {ref_s:7.2f} s   x{ref_s / ours_s:5.1f}   identical={same}   "
        f"[{others}; one-hot prep not counted]"
    )


def build_database(path: Path, orders: int, customers: int) -> str:
    """A SQLite database of ``orders`` orders written through ingest.apply (kept for reuse), by
    a process of its own: every connection it opened is closed when it ends, so the WAL can be
    folded in before the file is renamed."""
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    partial = path.with_suffix(".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--build", str(partial), "--build-orders", str(orders),
         "--customers", str(customers)],
        check=True, cwd=ROOT,
    )  # fmt: skip
    with sqlite3.connect(partial) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    partial.rename(path)
    print(
        f"built {path} ({orders:,} orders via ingest.apply) in {time.perf_counter() - began:.0f} s"
    )
    return url


def build_here(path: Path, orders: int, customers: int) -> None:
    from cryptography.fernet import Fernet

    from hub import create_app
    from hub.extensions import db
    from hub.models import Workspace
    from tests.support.sample_shop import load_sample_shop

    config = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "SECRET_KEY": "bench",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    with create_app(config).app_context():
        db.create_all()
        ws = Workspace(name="Bench", slug="acme")
        db.session.add(ws)
        db.session.commit()
        load_sample_shop(db.session, ws.id, orders=orders, customers=customers, days=730)


def bench_report(args: argparse.Namespace) -> None:
    url = build_database(Path(args.db), args.report_orders, args.customers)
    times = []
    for _ in range(args.report_runs):
        with tempfile.TemporaryDirectory() as out:
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi", "hub", "report", "--out", out,
                 "--workspace", "acme", "--json"],
                cwd=ROOT, check=True, capture_output=True,
                env={**_env(), "HUB_DATABASE_URL": url},
            )  # fmt: skip
            times.append(time.perf_counter() - began)
    print(
        f"hub report   {args.report_orders:>9,} orders, 7 notebooks   "
        f"median {statistics.median(times):7.2f} s of {len(times)} runs   target < 60 s"
    )


def bench_loaders(args: argparse.Namespace) -> None:
    """The loaders' read path (stdlib ``sqlite3`` in chunks, issue 20.1) beside pandas.read_sql
    through SQLAlchemy (peer), ADBC's Arrow reader when installed (the path it replaced: it
    carried a second SQLite library) and a bare ``fetchall`` that builds no frame (ceiling)."""
    from sqlalchemy import create_engine, text

    from hub.analytics import sql

    path = Path(args.db).with_name(f"tributary-loaders-{args.loader_orders}.db")
    engine = create_engine(build_database(path, args.loader_orders, args.customers // 10))
    stmt = text(
        "SELECT o.id, o.customer_id, o.ordered_at, o.amount_paid, o.source FROM orders o"
        " WHERE o.workspace_id = 1"
    )
    columns = ["id", "customer_id", "ordered_at", "paid", "source"]

    def raw() -> int:
        with sqlite3.connect(path) as conn:
            return len(conn.execute(str(stmt)).fetchall())

    ways: dict[str, Callable[[], Any]] = {
        "hub (sqlite3, chunks)": lambda: len(sql.read(engine, stmt, {}, columns)),
        "pandas.read_sql (peer)": lambda: len(pd.read_sql(stmt, engine)),
        "fetchall, no frame (ceiling)": raw,
    }
    try:
        import adbc_driver_sqlite.dbapi as adbc

        def arrow() -> int:
            with adbc.connect(str(path)) as conn, conn.cursor() as cur:
                cur.execute(str(stmt))
                return len(cur.fetch_arrow_table().to_pandas())

        ways["ADBC Arrow (before 20.1)"] = arrow
    except ImportError:
        pass
    for name, way in ways.items():
        median, rows = timed(way, args.runs)
        print(f"loaders  {name:<30} {rows:>9,} rows   median {median:6.3f} s of {args.runs} runs")


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.setdefault("HUB_SECRET_KEY", "bench-secret")
    from cryptography.fernet import Fernet

    env.setdefault("HUB_ENCRYPTION_KEY", Fernet.generate_key().decode())
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--baskets", type=int, default=100_000)
    parser.add_argument("--min-support", type=float, default=0.002)
    parser.add_argument("--report-orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--report-runs", type=int, default=2)
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "tributary-analytics.db"))
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--loader-orders", type=int, default=300_000)
    parser.add_argument("--only", choices=["rfm", "basket", "loaders", "report"], default=None)
    parser.add_argument("--with-apriori", action="store_true")
    parser.add_argument("--build", help=argparse.SUPPRESS)
    parser.add_argument("--build-orders", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build_here(Path(args.build), args.build_orders, args.customers)
        return
    steps = {"rfm": bench_rfm, "basket": bench_basket, "loaders": bench_loaders,
             "report": bench_report}  # fmt: skip
    for name, step in steps.items():
        if (args.only and name != args.only) or (name == "report" and args.skip_report):
            continue
        step(args)


if __name__ == "__main__":
    main()
