"""Benchmark: several Youzan stores synced at once by 1, 2 and 4 `hub worker` processes sharing
one PostgreSQL and one Redis, and a check that the result equals one sequential sync.

    python bench/scale.py --database-url postgresql+psycopg://user@host/db
                          [--stores 4] [--orders-per-store 25000] [--workers 1,2,4]
                          [--redis-url redis://host:port/db]

- each store is a sandbox shop of its own (`hub sandbox`'s app under gunicorn, seeds 1..N),
  bound in a workspace of its own;
- reference: the stores synced one after the other in this process (``engine.execute``);
- for each worker count: a fresh database, every store's full sync requested (queued on Redis),
  then that many ``hub worker --burst`` processes started together; timed from their start
  until the last one exits (all queues empty), so their start-up is inside the figure;
- every database (a scratch database each, created on the URL's server and dropped after,
  the URL's own database untouched) is compared with the reference, workspace by workspace:
  customers, identities, orders, lines, refunds, events and products, each row without the
  ids and timestamps the hub makes itself (a customer is named by its identities, an order by
  its source and external id, a product by its external id).

Each worker count's line gives orders/s from the workers' start to their exit, and below it
orders/s from the first run's start to the last run's end (the processes' start-up left out).
Without --redis-url a redis-server of its own runs on a free port. Prints orders/s per worker
count and "equal" or the differences; exits 1 if a database differs or a run did not succeed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import JSON

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import scratch_database  # noqa: E402  (bench/ingest.py)
from sync_youzan import free_port, start_sandbox  # noqa: E402  (bench/sync_youzan.py)

CONNECTOR = "connectors.youzan.connector:YouzanConnector"
# Every sandbox order is inside the first sync's window (the shop spans 400 days), so the
# window's edge moving between two runs changes nothing.
INITIAL_DAYS = 1000
SECRET = Fernet.generate_key().decode()


def hub_settings(database_url: str, redis_url: str) -> dict[str, str]:
    """The HUB_* environment every process of the hub gets (workers as anywhere else)."""
    return {
        "HUB_DATABASE_URL": database_url,
        "HUB_REDIS_URL": redis_url,
        "HUB_SECRET_KEY": "bench-scale",
        "HUB_ENCRYPTION_KEY": SECRET,
        "HUB_CONNECTORS": CONNECTOR,
        "HUB_ALLOW_PRIVATE_PLATFORMS": "true",  # the sandboxes run on 127.0.0.1
        "HUB_SYNC_INITIAL_DAYS": str(INITIAL_DAYS),
    }


def make_app(database_url: str, redis_url: str | None) -> Any:
    from hub import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-scale",
        "ENCRYPTION_KEY": SECRET,
        "CONNECTORS": [CONNECTOR],
        "ALLOW_PRIVATE_PLATFORMS": True,
        "SYNC_INITIAL_DAYS": INITIAL_DAYS,
    })  # fmt: skip


def prepare(app: Any, shops: list[str]) -> list[tuple[int, int]]:
    """A fresh schema, one workspace per shop with the shop bound; (workspace, connection)."""
    from connectors.youzan.sandbox import demo_bind_config
    from hub.extensions import db
    from hub.models import Connection, Workspace
    from hub.services import connections

    stores = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        for k, url in enumerate(shops, start=1):
            ws = Workspace(name=f"Store {k}", slug=f"store-{k}")
            db.session.add(ws)
            db.session.commit()
            conn = connections.bind(ws.id, "youzan", demo_bind_config(url))
            # Every sandbox is the same kdt_id, and a store binds to one workspace only: the
            # bound key is made unique per store (the sync reads kdt_id from the settings).
            db.session.get(Connection, conn.id).bound_key = f"sandbox-{k}"
            db.session.commit()
            stores.append((ws.id, conn.id))
    return stores


def run_sequential(database_url: str, shops: list[str]) -> tuple[float, int, list[str]]:
    """The reference: each store's full sync in turn, in this process."""
    from hub.extensions import db
    from hub.models import SyncRun
    from hub.sync import engine, service

    app = make_app(database_url, None)
    stores = prepare(app, shops)
    statuses, records = [], 0
    with app.app_context():
        started = time.perf_counter()
        for ws, conn in stores:
            run = service.request_sync(ws, conn, full=True)
            engine.execute(run.id, job_id=run.job_id)
        elapsed = time.perf_counter() - started
        for run in db.session.query(SyncRun).order_by(SyncRun.id):
            statuses.append(run.status)
            records += run.progress_done or 0
        db.session.remove()
        db.engine.dispose()
    return elapsed, records, statuses


def run_workers(
    database_url: str, redis_url: str, shops: list[str], workers: int, timeout: float
) -> tuple[float, float, int, list[str]]:
    """Every store's sync queued, then ``workers`` burst workers started at once: seconds from
    their start to the last one's exit, seconds from the first run's start to the last run's
    end (the workers' start-up left out), orders read, the runs' statuses."""
    import redis

    from hub.extensions import db
    from hub.models import SyncRun
    from hub.sync import service

    redis.Redis.from_url(redis_url).flushdb()
    app = make_app(database_url, redis_url)
    stores = prepare(app, shops)
    with app.app_context():
        for ws, conn in stores:
            service.request_sync(ws, conn, full=True)
        db.session.remove()
    env = {**os.environ, **hub_settings(database_url, redis_url)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    hub = str(Path(sys.executable).with_name("hub"))
    span = float("nan")
    with tempfile.TemporaryFile() as logs:
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [hub, "worker", "--burst"], env=env, cwd=ROOT, stdout=logs, stderr=logs
            )
            for _ in range(workers)
        ]
        try:
            for proc in procs:
                proc.wait(max(1.0, timeout - (time.perf_counter() - started)))
        except subprocess.TimeoutExpired:
            for proc in procs:
                proc.kill()
            raise
        elapsed = time.perf_counter() - started
        statuses, records = [], 0
        with app.app_context():
            runs = db.session.query(SyncRun).order_by(SyncRun.id).all()
            for run in runs:
                statuses.append(run.status)
                records += run.progress_done or 0
            if all(run.started_at and run.finished_at for run in runs):
                first = min(run.started_at for run in runs)
                span = (max(run.finished_at for run in runs) - first).total_seconds()
            db.session.remove()
            db.engine.dispose()
        if any(s != "succeeded" for s in statuses):
            logs.seek(0)
            sys.stderr.write(logs.read().decode(errors="replace")[-4000:])
    return elapsed, span, records, statuses


# ---------------------------------------------------------------- the comparison

_HUB_MADE = {"id", "workspace_id", "connection_id", "created_at", "updated_at"}
TABLES = ("customers", "identities", "orders", "order_lines", "order_refunds", "events", "products")


def snapshot(database_url: str) -> dict[str, Counter]:
    """Per table, the multiset of its rows as (workspace slug, values...): without the ids and
    timestamps the hub makes, a reference to a customer as its identities, to an order or a
    product as its source and external id, JSON as sorted text."""
    from sqlalchemy import create_engine, select

    from hub.extensions import db

    tables = db.metadata.tables
    engine = create_engine(database_url)
    try:
        with engine.connect() as con:
            ws = tables["workspaces"].c
            slug = {id_: name for id_, name in con.execute(select(ws.id, ws.slug))}
            held: dict[int, list[str]] = {}
            for cid, type_, value in con.execute(
                select(tables["identities"].c["customer_id", "type", "value"])
            ):
                held.setdefault(cid, []).append(f"{type_}:{value}")
            names: dict[str, dict[int, str]] = {
                "customers": {cid: ",".join(sorted(pairs)) for cid, pairs in held.items()},
                "workspaces": slug,
            }
            for name in ("orders", "products"):
                t = tables[name].c
                names[name] = {
                    id_: f"{source}:{ext}"
                    for id_, source, ext in con.execute(select(t.id, t.source, t.external_id))
                }
            out = {}
            for name in TABLES:
                table = tables[name]
                shape = []
                for column in table.c:
                    if column.name in _HUB_MADE:
                        continue
                    fks = list(column.foreign_keys)
                    target = fks[0].column.table.name if fks else None
                    shape.append((column.name, target, isinstance(column.type, JSON)))
                rows: Counter = Counter()
                for row in con.execute(select(table)).mappings():
                    values: list[Any] = [slug[row["workspace_id"]]]
                    for column, target, is_json in shape:
                        value = row[column]
                        if target is not None and value is not None:
                            value = names[target].get(value, "?")
                        elif is_json and value is not None:
                            value = json.dumps(value, sort_keys=True)
                        elif name == "events" and column == "dedupe_key":
                            value = _customer_key(value, names["customers"])
                        values.append(value)
                    rows[tuple(values)] += 1
                out[name] = rows
    finally:
        engine.dispose()
    return out


def _customer_key(key: str, customers: dict[int, str]) -> str:
    """An event's dedupe key with the customer id it may hold (``first_purchase:<id>``, one
    per customer) as the customer's identities: which store's buyer got id 1 depends on which
    worker came first."""
    head, _, tail = key.rpartition(":")
    if head == "first_purchase" and tail.isdigit():
        return f"{head}:{customers.get(int(tail), '?')}"
    return key


def differences(reference: dict[str, Counter], other: dict[str, Counter]) -> list[str]:
    lines = []
    for name in TABLES:
        missing, extra = reference[name] - other[name], other[name] - reference[name]
        if missing or extra:
            lines.append(
                f"{name}: {sum(missing.values())} rows missing, {sum(extra.values())} extra "
                f"(of {sum(reference[name].values())}); e.g. missing {next(iter(missing), None)}"
                f", extra {next(iter(extra), None)}"
            )
    return lines


# ---------------------------------------------------------------- the run


@contextmanager
def database(server: str | None, workdir: str, name: str) -> Iterator[str]:
    """A scratch PostgreSQL database on ``server``, or a new SQLite file in ``workdir``."""
    with scratch_database(server, workdir, name) as url:
        yield url or f"sqlite:///{workdir}/{name}.db"


@contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    """``url``, or a redis-server of this run's own (no persistence) on a free port."""
    if url:
        yield url
        return
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-scale-redis-")
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to run on (postgresql+psycopg://...): each database is a scratch "
        "one created and dropped there; default SQLite files in a temporary directory",
    )
    parser.add_argument("--redis-url", help="default: a redis-server of its own")
    parser.add_argument("--stores", type=int, default=4)
    parser.add_argument("--orders-per-store", type=int, default=25_000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per worker count")
    args = parser.parse_args(argv)
    os.environ.setdefault("HUB_ALLOW_INSECURE_DEFAULTS", "true")
    counts = [int(n) for n in args.workers.split(",")]
    t0 = time.perf_counter()
    sandboxes = [start_sandbox(args.orders_per_store, seed) for seed in range(1, args.stores + 1)]
    shops = [url for _, url in sandboxes]
    print(
        f"{args.stores} stores x {args.orders_per_store:,} orders (sandboxes ready in "
        f"{time.perf_counter() - t0:.1f}s), on {'PostgreSQL' if args.database_url else 'SQLite'}"
        f", cores: {os.cpu_count()}"
    )
    failed = False
    try:
        with (
            redis_server(args.redis_url) as redis_url,
            tempfile.TemporaryDirectory() as workdir,
        ):
            with database(args.database_url, workdir, "scale_ref") as url:
                elapsed, records, statuses = run_sequential(url, shops)
                reference = snapshot(url)
            print(f"{'sequential (in process)':<26}{records / elapsed:>10,.0f} orders/s "
                  f"{elapsed:>7.1f}s  {records:,} orders  runs: {','.join(statuses)}")  # fmt: skip
            failed |= any(s != "succeeded" for s in statuses)
            for n in counts:
                with database(args.database_url, workdir, f"scale_w{n}") as url:
                    elapsed, span, records, statuses = run_workers(
                        url, redis_url, shops, n, args.timeout
                    )
                    diff = differences(reference, snapshot(url))
                verdict = "equal to the sequential sync" if not diff else "DIFFERS"
                print(f"{f'{n} worker(s)':<26}{records / elapsed:>10,.0f} orders/s "
                      f"{elapsed:>7.1f}s  {records:,} orders  runs: {','.join(statuses)}  "
                      f"{verdict}")  # fmt: skip
                print(f"{'  while the runs ran':<26}{records / span:>10,.0f} orders/s "
                      f"{span:>7.1f}s  (first run's start to last run's end)")  # fmt: skip
                for line in diff:
                    print("    " + line)
                failed |= bool(diff) or any(s != "succeeded" for s in statuses)
    finally:
        for proc, _ in sandboxes:
            proc.terminate()
            proc.wait(10)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
