"""Benchmark: canonical orders through the one ingest entry, beside two peers in the same run.

    python bench/ingest.py [--orders 200000] [--buyers 50000] [--runs 3] [--batch 5000]
                           [--database-url postgresql+psycopg://user@host/db]

- hub:     ``hub.core.ingest.apply`` on SQLite, batches of --batch orders (2 lines each),
           buyers resolved by identity (yz_open_id / openid / unionid / mobile mix);
- hub+y10: the same with stage and activity-score settings on purchase, return and cancel
           (Y10), so every recorded event also updates its customer;
- sqlite3: the same rows upserted with raw ``sqlite3.executemany`` (the ceiling: no
           resolution, no events, no validation);
- dlt:     the same records loaded by dlt with ``write_disposition="merge"`` into SQLite
           through its sqlalchemy destination (the peer most users would pick).

With ``--database-url`` (PostgreSQL) every system writes to PostgreSQL instead, each run into a
scratch database of its own created on that server (the URL's database itself is not touched):
the hub, two ceilings and dlt through its postgres destination. The ceilings COPY rows into
temporary tables and upsert them by one ``INSERT ... SELECT ... ON CONFLICT`` per table:
``psycopg`` the bare rows (orders, lines and identities into tables with only their keys),
``psycopg-same`` the same rows as the hub writes (customers, identities, orders, lines,
refunds, events, deals) into the hub's own schema, with its keys, foreign keys and indexes. The
server's settings that weigh on writing are printed: every system meets the same ones. dlt
runs twice: ``dlt`` loads the orders as nested records (orders, their lines and buyer
identities as child tables), ``dlt-same`` the same rows as the hub writes, one table each,
every table merged on its natural key.

Each measurement runs in a fresh process, the systems taking turns round by round; the figures
are medians over --runs (each run is printed too), with each process's peak RSS. The hub is
also run at a quarter of the size to show memory stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def batches(n: int, buyers: int, size: int) -> Iterator[list]:
    """Orders generated batch by batch, so the generator itself holds no more than one batch."""
    from tests.support.orders import shop_batch

    for start in range(0, n, size):
        yield shop_batch(start, min(size, n - start), buyers)


@contextmanager
def scratch_database(url: str | None, workdir: str, name: str) -> Iterator[str | None]:
    """A new, empty PostgreSQL database on the server of ``url`` (dropped afterwards), as a
    URL with the same driver; None when ``url`` is None (SQLite: the caller uses ``workdir``)."""
    if url is None:
        yield None
        return
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    scratch = f"bench_{name}_{os.getpid()}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {scratch}")
        con.execute(f"CREATE DATABASE {scratch}")
    try:
        yield base.set(database=scratch).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")


def run_hub(
    n: int, buyers: int, size: int, workdir: str, url: str | None = None, y10: bool = False
) -> float:
    os.environ.setdefault("HUB_ALLOW_INSECURE_DEFAULTS", "true")
    from hub import create_app
    from hub.core import ingest
    from hub.extensions import db
    from hub.models import EventSetting, Workspace

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{workdir}/hub.db",
            "SECRET_KEY": "bench",
            "ENCRYPTION_KEY": "bench",
            "CONNECTORS": [],
            "ALLOW_INSECURE_DEFAULTS": True,
        }
    )
    with app.app_context():
        db.create_all()
        ws = Workspace(name="bench", slug="bench")
        db.session.add(ws)
        db.session.flush()
        if y10:  # stage and activity score per event (Y10), as a merchant would set them
            db.session.add_all(
                [
                    EventSetting(
                        workspace_id=ws.id,
                        event_type="purchase",
                        advance_to_stage="customer",
                        score_delta=10,
                    ),
                    EventSetting(workspace_id=ws.id, event_type="return", score_delta=-5),
                    EventSetting(workspace_id=ws.id, event_type="cancel", score_delta=-2),
                ]
            )
        db.session.commit()
        elapsed = 0.0
        for batch in batches(n, buyers, size):
            t = time.perf_counter()
            ingest.apply(db.session, ws.id, batch)
            elapsed += time.perf_counter() - t
    return elapsed


def _flat_rows(batch: list, text: bool = True) -> tuple[list, list, list]:
    """The rows of the raw peers; with ``text`` money and times as SQLite's text (sqlite3),
    else as the Decimal and datetime that psycopg adapts."""
    orders, lines, idents = [], [], []
    for o in batch:
        orders.append(
            (
                o.source,
                o.external_id,
                o.order_no,
                o.status,
                str(o.amount_paid) if text else o.amount_paid,
                o.ordered_at.isoformat() if text else o.ordered_at,
                o.effective_version(),
            )
        )
        lines += [
            (o.external_id, li.external_id, li.product_external_id, li.name, li.qty,
             str(li.paid) if text else li.paid)
            for li in o.lines
        ]  # fmt: skip
        idents += [(t, v) for t, v in o.buyer.identities]
    return orders, lines, idents


def run_sqlite3(n: int, buyers: int, size: int, workdir: str, url: str | None = None) -> float:
    import sqlite3

    con = sqlite3.connect(f"{workdir}/raw.db")
    con.executescript("""
        PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
        CREATE TABLE orders (source TEXT, external_id TEXT, order_no TEXT, status TEXT,
            amount_paid TEXT, ordered_at TEXT, version INTEGER, PRIMARY KEY (source, external_id));
        CREATE TABLE lines (order_id TEXT, external_id TEXT, product TEXT, name TEXT,
            qty INTEGER, paid TEXT, PRIMARY KEY (order_id, external_id));
        CREATE TABLE identities (type TEXT, value TEXT, PRIMARY KEY (type, value));
    """)
    elapsed = 0.0
    for batch in batches(n, buyers, size):
        t = time.perf_counter()
        orders, lines, idents = _flat_rows(batch)
        con.executemany(
            "INSERT INTO orders VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
            "status=excluded.status, amount_paid=excluded.amount_paid, version=excluded.version",
            orders,
        )
        con.executemany(
            "INSERT INTO lines VALUES (?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
            "qty=excluded.qty, paid=excluded.paid",
            lines,
        )
        con.executemany("INSERT INTO identities VALUES (?,?) ON CONFLICT DO NOTHING", idents)
        con.commit()
        elapsed += time.perf_counter() - t
    return elapsed


_PG_TABLES = """
    CREATE TABLE orders (source TEXT, external_id TEXT, order_no TEXT, status TEXT,
        amount_paid NUMERIC(14, 2), ordered_at TIMESTAMPTZ, version BIGINT,
        PRIMARY KEY (source, external_id));
    CREATE TABLE lines (order_id TEXT, external_id TEXT, product TEXT, name TEXT,
        qty INTEGER, paid NUMERIC(14, 2), PRIMARY KEY (order_id, external_id));
    CREATE TABLE identities (type TEXT, value TEXT, PRIMARY KEY (type, value));
"""
_PG_UPSERTS = (
    ("orders", "source, external_id, order_no, status, amount_paid, ordered_at, version",
     "ON CONFLICT (source, external_id) DO UPDATE SET status = excluded.status, "
     "amount_paid = excluded.amount_paid, version = excluded.version"),
    ("lines", "order_id, external_id, product, name, qty, paid",
     "ON CONFLICT (order_id, external_id) DO UPDATE SET qty = excluded.qty, "
     "paid = excluded.paid"),
    ("identities", "type, value", "ON CONFLICT DO NOTHING"),
)  # fmt: skip


def run_psycopg(n: int, buyers: int, size: int, workdir: str, url: str | None = None) -> float:
    """The PostgreSQL ceiling: per batch, each table's rows COPYed into a temporary table and
    upserted by one ``INSERT ... SELECT ... ON CONFLICT``, one commit."""
    import psycopg
    from sqlalchemy.engine import make_url

    assert url is not None, "psycopg runs on PostgreSQL (--database-url)"
    con = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    con.execute(_PG_TABLES)
    for table, _columns, _conflict in _PG_UPSERTS:
        con.execute(f"CREATE TEMP TABLE tmp_{table} (LIKE {table}) ON COMMIT DELETE ROWS")
    con.commit()
    elapsed = 0.0
    for batch in batches(n, buyers, size):
        t = time.perf_counter()
        orders, lines, idents = _flat_rows(batch, text=False)
        with con.cursor() as cur:
            for (table, columns, conflict), rows in zip(
                _PG_UPSERTS, (orders, lines, idents), strict=True
            ):
                with cur.copy(f"COPY tmp_{table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                # The batch's own duplicates (a buyer's identity twice) collapse first: one
                # INSERT ... ON CONFLICT may not touch a row twice.
                cur.execute(
                    f"INSERT INTO {table} ({columns}) SELECT DISTINCT ON ({_key(table)}) "
                    f"{columns} FROM tmp_{table} {conflict}"
                )
        con.commit()
        elapsed += time.perf_counter() - t
    con.close()
    return elapsed


# The "same rows" ceiling's upserts into the hub's own schema (its keys, foreign keys and
# indexes): per table the columns COPYed, the conflict key and what an update sets.
_SAME_UPSERTS = (
    ("customers", "id, workspace_id, name, mobile, properties, activity_score, created_at, "
     "updated_at", "id", "DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at"),
    ("identities", "workspace_id, customer_id, type, value, source, created_at",
     "workspace_id, type, value", "DO NOTHING"),
    ("orders", "id, workspace_id, source, external_id, order_no, customer_id, sales_channel, "
     "store_id, store_name, platform_status, status, currency, amount_total, amount_paid, "
     "refunded_amount, cancelled_amount, ordered_at, source_updated_at, version, "
     "consignee_name, consignee_phone, consignee_province, consignee_city, consignee_district, "
     "consignee_address, properties, created_at, updated_at",
     "workspace_id, source, external_id",
     "DO UPDATE SET status = excluded.status, amount_paid = excluded.amount_paid, "
     "version = excluded.version, updated_at = excluded.updated_at"),
    ("order_lines", "workspace_id, order_id, external_id, product_id, product_external_id, "
     "sku_id, name, qty, unit_price, total, paid, properties", "order_id, external_id",
     "DO UPDATE SET qty = excluded.qty, paid = excluded.paid"),
    ("order_refunds", "workspace_id, order_id, external_id, amount, refunded_at",
     "order_id, external_id", "DO NOTHING"),
    ("events", "workspace_id, customer_id, order_id, type, occurred_at, amount, source, "
     "properties, dedupe_key, created_at", "workspace_id, dedupe_key", "DO NOTHING"),
    ("deals", "workspace_id, source, kind, external_id, order_id, customer_id, name, stage, "
     "amount, currency, properties, stage_at, version, created_at, updated_at",
     "workspace_id, source, kind, external_id",
     "DO UPDATE SET stage = excluded.stage, amount = excluded.amount, "
     "version = excluded.version, updated_at = excluded.updated_at"),
)  # fmt: skip
_PURCHASED = {"paid", "shipped", "completed"}


def _cents(value: Any) -> int | None:
    return None if value is None else int(value * 100)


def run_psycopg_same(n: int, buyers: int, size: int, workdir: str, url: str | None = None) -> float:
    """The PostgreSQL ceiling for the same rows the hub writes: customers, identities,
    orders, lines, refunds, purchase / return / first-purchase events and the orders' deals
    (a first purchase per new buyer, at its first order: the batches come in time order),
    into the hub's own schema (its keys,
    foreign keys and indexes), each table's rows COPYed into a temporary table and upserted by
    one ``INSERT ... SELECT ... ON CONFLICT``, one commit per batch. No resolution, planning or
    validation: a buyer is its first identity, known in memory, and ids are drawn in one
    statement per table and batch."""
    import psycopg
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from hub.core.plan.stages import STATUS_STAGES
    from hub.extensions import db
    from hub.models import Workspace  # noqa: F401  (the models fill the metadata)

    assert url is not None, "psycopg runs on PostgreSQL (--database-url)"
    engine = create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()
    con = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    ws = con.execute(
        "INSERT INTO workspaces (name, slug, created_at) VALUES ('bench', 'bench', now()) "
        "RETURNING id"
    ).fetchone()[0]
    for table, *_ in _SAME_UPSERTS:
        con.execute(
            f"CREATE TEMP TABLE tmp_{table} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
    con.commit()
    customers: dict[tuple[str, str], int] = {}
    products: dict[str, int] = {}
    order_ids: dict[tuple[str, str], int] = {}

    def ids(table: str, k: int) -> list[int]:
        if not k:
            return []
        sql = f"SELECT nextval('{table}_id_seq') FROM generate_series(1, %s)"
        return [i for (i,) in con.execute(sql, (k,)).fetchall()]

    elapsed = 0.0
    for batch in batches(n, buyers, size):
        t = time.perf_counter()
        now = datetime.now(UTC)
        new_buyers = list({o.buyer.identities[0]: o.buyer for o in batch
                           if o.buyer.identities[0] not in customers}.items())  # fmt: skip
        customers.update(zip((k for k, _ in new_buyers),
                             ids("customers", len(new_buyers)), strict=True))  # fmt: skip
        wanted = sorted({li.product_external_id for o in batch for li in o.lines} - set(products))
        for ext in wanted:
            products[ext] = con.execute(
                "INSERT INTO products (workspace_id, source, external_id, name, properties, "
                "created_at, updated_at) VALUES (%s, 'fake', %s, %s, '{}', now(), now()) "
                "ON CONFLICT (workspace_id, source, external_id) DO UPDATE SET name = "
                "excluded.name RETURNING id", (ws, ext, ext)).fetchone()[0]  # fmt: skip
        fresh = [o for o in batch if (o.source, o.external_id) not in order_ids]
        order_ids.update(zip(((o.source, o.external_id) for o in fresh),
                             ids("orders", len(fresh)), strict=True))  # fmt: skip
        rows: dict[str, list[tuple]] = {table: [] for table, *_ in _SAME_UPSERTS}
        first_pending = {k for k, _ in new_buyers}  # a new buyer's first purchase (Y10)
        for key, b in new_buyers:
            rows["customers"].append(
                (customers[key], ws, b.name, b.mobile, json.dumps(b.properties), 0, now, now)
            )
        for o in batch:
            cid = customers[o.buyer.identities[0]]
            oid = order_ids[(o.source, o.external_id)]
            rows["identities"] += [(ws, cid, k, v, o.source, now) for k, v in o.buyer.identities]
            c = o.consignee
            rows["orders"].append((
                oid, ws, o.source, o.external_id, o.order_no, cid, o.sales_channel, o.store_id,
                o.store_name, o.platform_status, o.status, o.currency, _cents(o.amount_total),
                _cents(o.amount_paid), 0, 0, o.ordered_at, o.updated_at, o.effective_version(),
                c.name, c.phone, c.province, c.city, c.district, c.address,
                json.dumps(o.properties), now, now,
            ))  # fmt: skip
            rows["order_lines"] += [
                (ws, oid, li.external_id, products[li.product_external_id],
                 li.product_external_id, li.sku_id, li.name, li.qty, _cents(li.unit_price),
                 _cents(li.total), _cents(li.paid), "{}")
                for li in o.lines
            ]  # fmt: skip
            if o.status in _PURCHASED:
                rows["events"].append((ws, cid, oid, "purchase", o.ordered_at,
                                       _cents(o.amount_paid), o.source, "{}",
                                       f"{o.source}:{o.external_id}:purchase", now))  # fmt: skip
                if o.buyer.identities[0] in first_pending:
                    first_pending.discard(o.buyer.identities[0])
                    rows["events"].append((ws, cid, oid, "first_purchase", o.ordered_at,
                                           _cents(o.amount_paid), o.source, "{}",
                                           f"first_purchase:{cid}", now))  # fmt: skip
            rows["deals"].append((ws, o.source, "order", o.external_id, oid, cid, o.order_no,
                                  STATUS_STAGES[o.status], _cents(o.amount_total), o.currency,
                                  "{}", o.updated_at or o.ordered_at, o.effective_version(),
                                  now, now))  # fmt: skip
            for r in o.refunds:
                rows["order_refunds"].append((ws, oid, r.external_id, _cents(r.amount),
                                              r.refunded_at))  # fmt: skip
                rows["events"].append((ws, cid, oid, "return", r.refunded_at, _cents(r.amount),
                                       o.source, "{}",
                                       f"{o.source}:{o.external_id}:return:{r.external_id}",
                                       now))  # fmt: skip
        with con.cursor() as cur:
            for table, columns, key, action in _SAME_UPSERTS:
                with cur.copy(f"COPY tmp_{table} ({columns}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(row)
                cur.execute(
                    f"INSERT INTO {table} ({columns}) SELECT DISTINCT ON ({key}) {columns} "
                    f"FROM tmp_{table} ON CONFLICT ({key}) {action}"
                )
        con.commit()
        elapsed += time.perf_counter() - t
    con.close()
    return elapsed


def server_settings(url: str) -> str:
    """The server settings that weigh on writing, as every system here meets them (each
    writes to a scratch database on this one server, with the server's own settings)."""
    import psycopg
    from sqlalchemy.engine import make_url

    names = ("synchronous_commit", "fsync", "full_page_writes", "wal_level", "shared_buffers",
             "max_wal_size", "jit")  # fmt: skip
    plain = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain) as con:
        rows = con.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", (list(names),)
        ).fetchall()
        version = con.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version}: " + ", ".join(
        f"{name}={setting}{'' if not unit else ' x ' + unit}" for name, setting, unit in rows
    )


def _key(table: str) -> str:
    return {"orders": "source, external_id", "lines": "order_id, external_id"}.get(
        table, "type, value"
    )


def run_dlt(n: int, buyers: int, size: int, workdir: str, url: str | None = None) -> float:
    os.environ["DLT_DATA_DIR"] = f"{workdir}/dlt"
    os.environ["RUNTIME__LOG_LEVEL"] = "WARNING"
    import dlt

    # The hub's and sqlite3's clocks leave out making their input (the canonical records): so
    # does dlt's, for its input (the records as the dicts a dlt source yields), batch by batch.
    generating = 0.0

    def records():
        nonlocal generating
        source = batches(n, buyers, size)
        while True:  # a batch is made, and turned into dicts, while dlt's clock is stopped
            t = time.perf_counter()
            batch = next(source, None)
            if batch is None:
                return
            rows = [
                {
                    "source": o.source,
                    "external_id": o.external_id,
                    "order_no": o.order_no,
                    "status": o.status,
                    "amount_paid": o.amount_paid,
                    "ordered_at": o.ordered_at,
                    "version": o.effective_version(),
                    "buyer": [{"type": kind, "value": v} for kind, v in o.buyer.identities],
                    "lines": [
                        {
                            "external_id": li.external_id,
                            "product": li.product_external_id,
                            "name": li.name,
                            "qty": li.qty,
                            "paid": li.paid,
                        }
                        for li in o.lines
                    ],
                }
                for o in batch
            ]
            generating += time.perf_counter() - t
            yield from rows

    resource_ = dlt.resource(
        records(), name="orders", write_disposition="merge", primary_key=("source", "external_id")
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        pipelines_dir=f"{workdir}/dlt/pipelines",
        destination=_dlt_destination(workdir, url),
        dataset_name="main",
    )
    t = time.perf_counter()
    pipeline.run(resource_)
    return time.perf_counter() - t - generating


def _same_records(batch: list, bought: set[str]) -> dict[str, list[dict]]:
    """The rows the hub writes for a batch (customers, identities, orders, lines, refunds,
    purchase / return / first-purchase events, the orders' deals) as dicts keyed by their
    natural keys, for dlt; a buyer is its first identity. ``bought``: the buyers whose first
    purchase was made already (the batches come in time order), added to here."""
    from hub.core.plan.stages import STATUS_STAGES

    out: dict[str, list[dict]] = {t: [] for t in
                                  ("customers", "identities", "orders", "order_lines",
                                   "order_refunds", "events", "deals")}  # fmt: skip
    for o in batch:
        b = o.buyer
        buyer = ":".join(b.identities[0])
        out["customers"].append(
            {"buyer": buyer, "name": b.name, "mobile": b.mobile, "properties": b.properties}
        )
        out["identities"] += [{"type": k, "value": v, "buyer": buyer, "source": o.source}
                              for k, v in b.identities]  # fmt: skip
        c = o.consignee
        out["orders"].append({
            "source": o.source, "external_id": o.external_id, "order_no": o.order_no,
            "buyer": buyer, "sales_channel": o.sales_channel, "store_id": o.store_id,
            "store_name": o.store_name, "platform_status": o.platform_status,
            "status": o.status, "currency": o.currency, "amount_total": o.amount_total,
            "amount_paid": o.amount_paid, "ordered_at": o.ordered_at,
            "source_updated_at": o.updated_at, "version": o.effective_version(),
            "consignee_name": c.name, "consignee_phone": c.phone,
            "consignee_province": c.province, "consignee_city": c.city,
            "consignee_district": c.district, "consignee_address": c.address,
        })  # fmt: skip
        out["order_lines"] += [
            {"order_external_id": o.external_id, "external_id": li.external_id,
             "product": li.product_external_id, "sku_id": li.sku_id, "name": li.name,
             "qty": li.qty, "unit_price": li.unit_price, "total": li.total, "paid": li.paid}
            for li in o.lines
        ]  # fmt: skip
        prefix = f"{o.source}:{o.external_id}:"
        if o.status in _PURCHASED:
            out["events"].append({"dedupe_key": prefix + "purchase", "buyer": buyer,
                                  "order_external_id": o.external_id, "type": "purchase",
                                  "occurred_at": o.ordered_at, "amount": o.amount_paid,
                                  "source": o.source})  # fmt: skip
            if buyer not in bought:
                bought.add(buyer)
                out["events"].append({"dedupe_key": f"first_purchase:{buyer}", "buyer": buyer,
                                      "order_external_id": o.external_id,
                                      "type": "first_purchase", "occurred_at": o.ordered_at,
                                      "amount": o.amount_paid, "source": o.source})  # fmt: skip
        out["deals"].append({"source": o.source, "kind": "order", "external_id": o.external_id,
                             "order_external_id": o.external_id, "buyer": buyer,
                             "name": o.order_no, "stage": STATUS_STAGES[o.status],
                             "amount": o.amount_total, "currency": o.currency,
                             "stage_at": o.updated_at or o.ordered_at,
                             "version": o.effective_version()})  # fmt: skip
        for r in o.refunds:
            out["order_refunds"].append({"order_external_id": o.external_id,
                                         "external_id": r.external_id, "amount": r.amount,
                                         "refunded_at": r.refunded_at})  # fmt: skip
            out["events"].append({"dedupe_key": f"{prefix}return:{r.external_id}",
                                  "buyer": buyer, "order_external_id": o.external_id,
                                  "type": "return", "occurred_at": r.refunded_at,
                                  "amount": r.amount, "source": o.source})  # fmt: skip
    return out


_SAME_KEYS = {
    "customers": ("buyer",),
    "identities": ("type", "value"),
    "orders": ("source", "external_id"),
    "order_lines": ("order_external_id", "external_id"),
    "order_refunds": ("order_external_id", "external_id"),
    "events": ("dedupe_key",),
    "deals": ("source", "kind", "external_id"),
}


def run_dlt_same(n: int, buyers: int, size: int, workdir: str, url: str | None = None) -> float:
    """dlt loading the same rows as the hub writes (``_same_records``: customers, identities,
    orders, lines, refunds, events, deals), one resource per table, each merged on its natural key
    (``write_disposition="merge"``). Making the rows is off the clock, as for ``run_dlt``."""
    os.environ["DLT_DATA_DIR"] = f"{workdir}/dlt"
    os.environ["RUNTIME__LOG_LEVEL"] = "WARNING"
    import dlt

    generating = 0.0

    def rows(table: str) -> Iterator[dict]:
        nonlocal generating
        source = batches(n, buyers, size)
        bought: set[str] = set()
        while True:
            t = time.perf_counter()
            batch = next(source, None)
            if batch is None:
                return
            made = _same_records(batch, bought)[table]
            generating += time.perf_counter() - t
            yield from made

    resources = [
        dlt.resource(rows(table), name=table, write_disposition="merge", primary_key=key)
        for table, key in _SAME_KEYS.items()
    ]
    pipeline = dlt.pipeline(
        pipeline_name="bench_same",
        pipelines_dir=f"{workdir}/dlt/pipelines",
        destination=_dlt_destination(workdir, url),
        dataset_name="main",
    )
    t = time.perf_counter()
    pipeline.run(resources)
    return time.perf_counter() - t - generating


def _dlt_destination(workdir: str, url: str | None) -> Any:
    """SQLite through dlt's sqlalchemy destination, or dlt's own postgres destination
    (psycopg2), as its users would pick."""
    import dlt

    if url is None:
        return dlt.destinations.sqlalchemy(f"sqlite:///{workdir}/dlt.db")
    from sqlalchemy.engine import make_url

    pg = make_url(url).set(drivername="postgresql")
    # dlt insists on a password; a server that trusts the connection ignores it
    pg = pg.set(password=pg.password or "unused").render_as_string(hide_password=False)
    return dlt.destinations.postgres(pg)


def run_hub_y10(n: int, buyers: int, size: int, workdir: str, url: str | None = None) -> float:
    return run_hub(n, buyers, size, workdir, url, y10=True)


SYSTEMS = {
    "hub": run_hub,
    "hub+y10": run_hub_y10,
    "sqlite3": run_sqlite3,
    "psycopg": run_psycopg,
    "psycopg-same": run_psycopg_same,
    "dlt": run_dlt,
    "dlt-same": run_dlt_same,
}


def child(system: str, n: int, buyers: int, size: int, url: str | None) -> None:
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(url, workdir, system.replace("+", "_").replace("-", "_")) as scratch,
    ):
        seconds = SYSTEMS[system](n, buyers, size, workdir, scratch)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def run_child(system: str, n: int, buyers: int, size: int, url: str | None = None) -> dict:
    extra = ["--database-url", url] if url else []
    out = subprocess.run(
        [sys.executable, __file__, "--child", system, "--orders", str(n), "--buyers", str(buyers),
         "--batch", str(size), *extra],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if out.returncode:
        sys.exit(f"{system} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    plan: list[tuple[str, str, int, int]], size: int, runs: int, url: str | None = None
) -> dict[str, dict]:
    """Every (label, system, orders, buyers) once per round, rounds interleaved: this machine's
    speed drifts over minutes, so a slow spell falls on every system alike rather than on the
    one measured at that time. Medians over the rounds."""
    results: dict[str, list[dict]] = {label: [] for label, *_ in plan}
    for _ in range(runs):
        for label, system, n, buyers in plan:
            results[label].append(run_child(system, n, buyers, size, url))
    rows = {}
    for label, _system, n, _ in plan:
        seconds = statistics.median(r["seconds"] for r in results[label])
        rows[label] = {
            "orders_per_s": n / seconds,
            "seconds": seconds,
            "peak_mb": statistics.median(r["peak_mb"] for r in results[label]),
            "runs": [n / r["seconds"] for r in results[label]],  # in round order
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--buyers", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5000, help="orders per apply (as the sync)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--systems", help="default: hub,hub+y10,<raw ceiling>,dlt")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to run on (postgresql+psycopg://...): each run creates and "
        "drops a scratch database there; default SQLite files in a temporary directory",
    )
    parser.add_argument("--child")
    args = parser.parse_args()
    url = args.database_url
    if args.child:
        child(args.child, args.orders, args.buyers, args.batch, url)
        return
    raw = "psycopg" if url else "sqlite3"
    # On PostgreSQL two ceilings: "psycopg" upserts the bare rows (orders, lines, identities,
    # only their keys), "psycopg-same" the same rows as the hub into the hub's schema.
    # ... and two dlt runs: "dlt" the orders as nested records (orders, lines, buyer
    # identities), "dlt-same" the same rows as the hub, one merged table each.
    peers = "psycopg,psycopg-same,dlt,dlt-same" if url else f"{raw},dlt"
    systems = (args.systems or f"hub,hub+y10,{peers}").split(",")
    n, buyers = args.orders, args.buyers
    print(
        f"{n:,} orders x 2 lines, {buyers:,} buyers, batches of {args.batch}, "
        f"median of {args.runs} interleaved runs, each in a fresh process, "
        f"on {'PostgreSQL' if url else 'SQLite'}"
    )
    if url:
        print(server_settings(url))
    plan = [(s, s, n, buyers) for s in systems]
    if "hub" in systems:
        plan.append((f"hub at {n // 4:,}", "hub", n // 4, buyers // 4))
    rows = measure(plan, args.batch, args.runs, url)
    print(f"{'system':<16}{'orders/s':>12}{'seconds':>10}{'peak RSS MB':>14}   each run (orders/s)")
    for name, r in rows.items():
        print(
            f"{name:<16}{r['orders_per_s']:>12,.0f}{r['seconds']:>10.1f}{r['peak_mb']:>14.0f}   "
            + ", ".join(f"{x:,.0f}" for x in r["runs"])
        )
    for peer in ("dlt", "dlt-same"):
        if "hub" not in rows or peer not in rows:
            continue
        rounds = [h / d for h, d in zip(rows["hub"]["runs"], rows[peer]["runs"], strict=True)]
        print(
            f"hub / {peer}: {rows['hub']['orders_per_s'] / rows[peer]['orders_per_s']:.1f}x "
            f"(round by round: {', '.join(f'{x:.1f}x' for x in rounds)})"
        )
    names = {"psycopg": "raw psycopg ceiling (bare rows)",
             "psycopg-same": "raw psycopg ceiling (same rows)"}  # fmt: skip
    for ceiling in (raw, "psycopg-same"):
        if "hub" not in rows or ceiling not in rows:
            continue
        rounds = [h / r for h, r in zip(rows["hub"]["runs"], rows[ceiling]["runs"], strict=True)]
        print(
            f"hub / {names.get(ceiling, f'raw {ceiling} ceiling')}: "
            f"{rows['hub']['orders_per_s'] / rows[ceiling]['orders_per_s']:.2f} "
            f"(round by round: {', '.join(f'{x:.2f}' for x in rounds)})"
        )


if __name__ == "__main__":
    main()
