"""Benchmark: what the rules engine (A1) costs ingest, with its peer in the same run.

    python bench/rules.py [--orders 200000] [--buyers 50000] [--runs 3] [--batch 5000]
                          [--database-url postgresql+psycopg://user@host/db]

- none:  canonical orders through ``hub.core.ingest.apply`` with no rule (the peer: the hub
         as it was; ``fire_for_batch`` costs one indexed lookup per batch);
- rules: the same with 20 enabled rules on purchase, first purchase, return and cancel, with
         conditions over the event, its lines and the customer (orders count), and actions on
         tags, static groups, stage, activity score and one webhook (written to the outbox):
         a score on every purchase, a tag and a stage on every first purchase, fourteen spend
         bands (each about 1/14 of the orders). How many runs per order is printed.

Each measurement runs in a fresh process, the two taking turns round by round; medians over
--runs. The target (issue 25): the rules cost at most 30% of ingest throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOOK = {"type": "webhook", "url": "http://127.0.0.1:9/bench", "secret": "bench-secret-0123456"}


def twenty_rules() -> list[dict[str, Any]]:
    """20 rules as a merchant might write them (the webhook on one)."""
    rules: list[dict[str, Any]] = [
        {"trigger": {"type": "first_purchase"}, "actions": [
            {"type": "add_tag", "tag": "New"}, {"type": "advance_stage", "stage": "customer"}]},
        {"trigger": {"type": "first_purchase"},
         "conditions": [{"field": "amount", "op": "gte", "value": "200"}],
         "actions": [{"type": "add_tag", "tag": "VIP"}, HOOK]},
        {"trigger": {"type": "return"}, "actions": [{"type": "change_score", "delta": -5}]},
        {"trigger": {"type": "cancel"}, "actions": [{"type": "add_tag", "tag": "Cancelled"}]},
        {"trigger": {"type": "purchase"}, "actions": [{"type": "change_score", "delta": 10}]},
        {"trigger": {"type": "purchase"},
         "conditions": [{"field": "orders_count", "op": "gte", "value": 3}],
         "actions": [{"type": "advance_stage", "stage": "repeat"}]},
    ]  # fmt: skip
    for i in range(14):  # spend bands (order amounts run from 10 to 900 yuan)
        low, high = 10 + 64 * i, 10 + 64 * (i + 1)
        band = [
            {"field": "amount", "op": "gte", "value": str(low)},
            {"field": "amount", "op": "lt", "value": str(high)},
        ]
        if i % 3 == 0:  # a product among the order's lines too
            band.append({"field": "line.sku", "op": "in", "value": ["S0", "S1"]})
        rules.append({
            "trigger": {"type": "purchase"}, "conditions": {"all": band},
            "actions": [{"type": "add_to_group" if i % 2 else "add_tag",
                         "group" if i % 2 else "tag": f"Band {i}"}],
        })  # fmt: skip
    return [{"name": f"rule {i}", "enabled": True, **r} for i, r in enumerate(rules)]


def run_hub(
    n: int, buyers: int, size: int, workdir: str, url: str | None, rules: bool
) -> tuple[float, float, int]:
    os.environ.setdefault("HUB_ALLOW_INSECURE_DEFAULTS", "true")
    from hub import create_app
    from hub.automation import rules as engine
    from hub.core import ingest
    from hub.extensions import db
    from hub.models import Rule, Workspace
    from tests.support.orders import shop_batch

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{workdir}/hub.db", "SECRET_KEY": "bench",
        "ENCRYPTION_KEY": "bench", "CONNECTORS": [], "ALLOW_INSECURE_DEFAULTS": True,
        "REDIS_URL": "redis://127.0.0.1:1/0",  # no worker: the outbox rows wait (kick lost)
    })  # fmt: skip
    with app.app_context():
        db.create_all()
        ws = Workspace(name="bench", slug="bench")
        db.session.add(ws)
        db.session.flush()
        if rules:
            for data in twenty_rules():
                values = engine.validate(data, allow_private=True)
                db.session.add(Rule(workspace_id=ws.id, **values))
        db.session.commit()
        elapsed = cpu = 0.0
        for start in range(0, n, size):
            batch = shop_batch(start, min(size, n - start), buyers)
            t, c = time.perf_counter(), time.process_time()
            ingest.apply(db.session, ws.id, batch)
            elapsed += time.perf_counter() - t
            cpu += time.process_time() - c  # this process's threads (SQLite works in it)
        from sqlalchemy import func, select

        from hub.models import RuleRun

        runs = db.session.scalar(select(func.count()).select_from(RuleRun))
    return elapsed, cpu, runs


def child(system: str, n: int, buyers: int, size: int, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        if url:  # a scratch database of its own on the server
            from bench.ingest import scratch_database  # type: ignore[import-not-found]

            with scratch_database(url, workdir, f"rules_{system}") as scratch:
                seconds, cpu, runs = run_hub(n, buyers, size, workdir, scratch, system == "rules")
        else:
            seconds, cpu, runs = run_hub(n, buyers, size, workdir, None, system == "rules")
    print(json.dumps({"seconds": seconds, "cpu": cpu, "runs": runs}))


def run_child(system: str, n: int, buyers: int, size: int, url: str | None) -> dict:
    extra = ["--database-url", url] if url else []
    out = subprocess.run(
        [sys.executable, __file__, "--child", system, "--orders", str(n), "--buyers", str(buyers),
         "--batch", str(size), *extra],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if out.returncode:
        sys.exit(f"{system} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=200_000)
    p.add_argument("--buyers", type=int, default=50_000)
    p.add_argument("--batch", type=int, default=5000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--database-url")
    p.add_argument("--child")
    a = p.parse_args()
    if a.child:
        child(a.child, a.orders, a.buyers, a.batch, a.database_url)
        return
    seconds: dict[str, list[float]] = {"none": [], "rules": []}
    cpus: dict[str, list[float]] = {"none": [], "rules": []}
    fired = 0
    for _ in range(a.runs):  # rounds interleaved: a slow spell falls on both alike
        for system in seconds:
            out = run_child(system, a.orders, a.buyers, a.batch, a.database_url)
            seconds[system].append(out["seconds"])
            cpus[system].append(out["cpu"])
            fired = max(fired, out["runs"] or 0)
    rate = {s: a.orders / statistics.median(v) for s, v in seconds.items()}
    where = "PostgreSQL" if a.database_url else "SQLite"
    print(
        f"{a.orders} orders, {a.buyers} buyers, batches of {a.batch}, {where}, median of {a.runs}"
    )
    for system, r in rate.items():
        runs = ", ".join(f"{a.orders / s:,.0f}" for s in seconds[system])
        print(f"  {system:6} {r:10,.0f} orders/s   (runs: {runs})")
    print(f"  rule runs: {fired:,} ({fired / a.orders:.1f} per order)")
    cost = 1 - rate["rules"] / rate["none"]
    print(f"  20 rules cost {cost:.0%} of ingest throughput (target: at most 30%)")
    # CPU seconds of this process (a loaded machine stretches the wall clock, not these)
    cpu = {s: statistics.median(v) for s, v in cpus.items()}
    runs_cpu = ", ".join(f"{s}: " + " ".join(f"{x:.2f}" for x in v) for s, v in cpus.items())
    print(f"  CPU of ingest: none {cpu['none']:.2f} s, rules {cpu['rules']:.2f} s ({runs_cpu})")
    print(f"  by CPU: 20 rules cost {1 - cpu['none'] / cpu['rules']:.0%} of ingest throughput")


if __name__ == "__main__":
    main()
