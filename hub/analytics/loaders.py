"""Loaders: read the core into DataFrames in chunks, one workspace at a time.

Amounts come back as float in the shop's currency (integer cents / 100, exact to the cent for
any realistic total), timestamps as tz-aware UTC (``tz=`` converts them, and start/end bounds
without a zone are then read in it: pass the workspace's zone, ``workspace_zone``, so days,
weeks and months are the merchant's), customer ids as the surviving customer of a merge.
Every query is scoped to the workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

from hub.analytics import cache, sql
from hub.analytics.sql import resolve_engine

__all__ = [
    "load_events",
    "load_first_orders",
    "load_lines",
    "load_transactions",
    "resolve_engine",
    "workspace_zone",
]

_CUSTOMER = "COALESCE(c.merged_into_id, {t}.customer_id)"


def _load(
    kind: str, workspace: Any, bounds: tuple, engine: Any, build: Any, *extra: Any
) -> pd.DataFrame:
    """Resolve engine and workspace, then read (or reuse a report run's cached copy)."""
    eng = sql.resolve_engine(engine)
    ws = sql.workspace_id(workspace, eng)
    key = cache.key(kind, eng.url.render_as_string(hide_password=True), ws, *bounds, *extra)
    found = cache.get(key)
    if found is not None:
        return found
    df = build(eng, ws)
    cache.put(key, df)
    return df


def load_transactions(
    workspace: Any,
    start: Any = None,
    end: Any = None,
    sources: Iterable[str] | None = None,
    *,
    engine: Engine | str | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """One row per order ordered in [start, end), by order id: customer_id, order_id,
    ordered_at, amount (paid net of refunds; 0 when unpaid), refunded, source, store, status."""
    bounds = (start, end, tuple(sources) if sources else None)

    def build(eng: Engine, ws: int) -> pd.DataFrame:
        select_sql = (
            f"SELECT {_CUSTOMER.format(t='o')}, o.id, o.ordered_at, o.amount_paid, "
            "o.refunded_amount, o.source, COALESCE(o.store_name, o.store_id), o.status "
            "FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE {where}"
        )
        stmt, params = sql.query("o", "ordered_at", select_sql, bounds, eng.dialect.name, tz)
        cols = ["customer_id", "order_id", "ordered_at", "amount", "refunded", "source", "store"]
        df = sql.read(eng, stmt, {**params, "ws": ws}, [*cols, "status"])
        df = df.sort_values("order_id", ignore_index=True)
        df["ordered_at"] = sql.times(df["ordered_at"], None)
        df["amount"], df["refunded"] = sql.money(df["amount"]), sql.money(df["refunded"])
        df["customer_id"] = df["customer_id"].astype("Int64")
        return df

    return _zone(_load("tx", workspace, bounds, engine, build, tz), "ordered_at", tz)


def load_lines(
    workspace: Any,
    start: Any = None,
    end: Any = None,
    sources: Iterable[str] | None = None,
    *,
    engine: Engine | str | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """One row per order line of the orders ``load_transactions`` would return, by line id:
    order_id, line_id, customer_id, ordered_at, source, status, product (name, else external
    id), product_id, qty, paid (else total), order_refunded (the order's refunds)."""
    bounds = (start, end, tuple(sources) if sources else None)

    def build(eng: Engine, ws: int) -> pd.DataFrame:
        # Lines drive the scan (each finds its order by primary key); the order's columns come
        # from load_transactions (read once, or reused from a report's cache), not per line.
        select_sql = (
            "SELECT l.order_id, l.id, COALESCE(p.name, l.name, l.product_external_id), "
            "l.product_id, l.qty, COALESCE(l.paid, l.total) "
            "FROM order_lines l CROSS JOIN orders o "
            "LEFT JOIN products p ON p.id = l.product_id "
            "WHERE o.id = l.order_id AND l.workspace_id = :ws AND {where}"
        )
        stmt, params = sql.query("o", "ordered_at", select_sql, bounds, eng.dialect.name, tz)
        cols = ["order_id", "line_id", "product", "product_id", "qty", "paid"]
        df = sql.read(eng, stmt, {**params, "ws": ws}, cols)
        df = df.sort_values("line_id", ignore_index=True)
        df["paid"] = sql.money(df["paid"])
        df["qty"] = pd.to_numeric(df["qty"]).fillna(0).astype(int)
        orders = load_transactions(ws, start, end, sources, engine=eng, tz=tz)
        orders = orders.set_index("order_id")[
            ["customer_id", "ordered_at", "source", "status", "refunded"]
        ].rename(columns={"refunded": "order_refunded"})
        df = df.join(orders, on="order_id")
        order = ["order_id", "line_id", "customer_id", "ordered_at", "source", "status"]
        return df[[*order, "product", "product_id", "qty", "paid", "order_refunded"]]

    return _zone(_load("lines", workspace, bounds, engine, build, tz), "ordered_at", tz)


def load_events(
    workspace: Any,
    start: Any = None,
    end: Any = None,
    sources: Iterable[str] | None = None,
    *,
    types: Iterable[str] | None = None,
    properties: bool = False,
    engine: Engine | str | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """One row per event in [start, end), by event id: event_id, customer_id, order_id, type,
    occurred_at, amount, source (and ``properties`` as dicts when asked; ``types`` keeps only
    those event types)."""
    bounds = (start, end, tuple(sources) if sources else None)

    def build(eng: Engine, ws: int) -> pd.DataFrame:
        props = ", e.properties" if properties else ""
        select_sql = (
            f"SELECT e.id, {_CUSTOMER.format(t='e')}, e.order_id, e.type, e.occurred_at, "
            f"e.amount, e.source{props} FROM events e "
            "LEFT JOIN customers c ON c.id = e.customer_id WHERE {where}"
        )
        stmt, params = sql.query("e", "occurred_at", select_sql, bounds, eng.dialect.name, tz)
        cols = ["event_id", "customer_id", "order_id", "type", "occurred_at", "amount", "source"]
        cols += ["properties"] if properties else []
        df = sql.read(eng, stmt, {**params, "ws": ws}, cols)
        df = df.sort_values("event_id", ignore_index=True)
        df["occurred_at"] = sql.times(df["occurred_at"], None)
        df["amount"] = sql.money(df["amount"])
        df["customer_id"] = df["customer_id"].astype("Int64")
        if properties:
            df["properties"] = df["properties"].map(_json)
        return df

    df = _load("events", workspace, bounds, engine, build, properties, tz)
    if types is not None:
        df = df[df["type"].isin(list(types))].reset_index(drop=True)
    return _zone(df, "occurred_at", tz)


def _zone(df: pd.DataFrame, column: str, tz: str | None) -> pd.DataFrame:
    if tz:
        df = df.assign(**{column: df[column].dt.tz_convert(tz)})
    return df


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def load_first_orders(
    workspace: Any, *, engine: Engine | str | None = None, tz: str | None = None
) -> pd.Series:
    """Each customer's first order time ever (any source), aggregated in SQL (UTC; ``tz``
    converts)."""
    eng = sql.resolve_engine(engine)
    customer = _CUSTOMER.format(t="o")
    stmt = text(
        f"SELECT {customer}, MIN(o.ordered_at) FROM orders o "
        "LEFT JOIN customers c ON c.id = o.customer_id "
        f"WHERE o.workspace_id = :ws AND o.customer_id IS NOT NULL GROUP BY {customer}"
    )
    df = sql.read(eng, stmt, {"ws": sql.workspace_id(workspace, eng)}, ["customer_id", "first"])
    df = df.dropna(subset=["customer_id"])
    first = sql.times(df["first"], tz).to_numpy()
    return pd.Series(first, index=df["customer_id"].astype("Int64"), name="first")


def last_order_time(workspace: Any, *, engine: Engine | str | None = None) -> pd.Timestamp | None:
    """The newest order time of the workspace (None without orders)."""
    eng = sql.resolve_engine(engine)
    with eng.connect() as conn:
        value = conn.execute(
            text("SELECT MAX(ordered_at) FROM orders WHERE workspace_id = :ws"),
            {"ws": sql.workspace_id(workspace, eng)},
        ).scalar()
    return None if value is None else pd.Timestamp(sql.times(pd.Series([value]), None).iloc[0])


def order_sources(workspace: Any, *, engine: Engine | str | None = None) -> list[str]:
    """The distinct sources of the workspace's orders."""
    eng = sql.resolve_engine(engine)
    with eng.connect() as conn:
        rows = conn.execute(
            text("SELECT DISTINCT source FROM orders WHERE workspace_id = :ws ORDER BY source"),
            {"ws": sql.workspace_id(workspace, eng)},
        )
        return [r[0] for r in rows]


def workspace_zone(workspace: Any, *, engine: Engine | str | None = None) -> str:
    """The workspace's IANA time zone: pass it as ``tz=`` to read days in its calendar."""
    eng = sql.resolve_engine(engine)
    return sql.workspace_zone(workspace, eng)
