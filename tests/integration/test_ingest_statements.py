"""The ingest is set-based at the driver, not only as SQLAlchemy sees it: a batch costs a
handful of statements per chunk whatever its number of rows. Counted at the DB-API driver,
where an ``executemany`` of n rows is n statements (psycopg sends one per row, in a pipeline;
SQLite runs one per row), so a per-row path hidden under one SQLAlchemy call shows."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from hub.core import ingest
from hub.extensions import db
from hub.models import Event, Order, OrderLine
from tests.support.orders import order, shop_batch

ORDERS = 3000


@contextmanager
def driver_statements() -> Iterator[list[str]]:
    """Every statement the driver runs while the block runs, on any connection checked out
    of the engine's pool meanwhile (executemany: one per parameter set)."""
    statements: list[str] = []
    touched: list[Any] = []

    def count(dbapi_connection: Any, *_args: Any) -> None:
        touched.append(dbapi_connection)
        if db.engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(statements.append)
            return
        import psycopg

        class Counting(psycopg.Cursor):
            def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
                statements.append(str(query))
                return super().execute(query, params, **kw)

            def executemany(self, query: Any, params_seq: Any, **kw: Any) -> Any:
                params_seq = list(params_seq)
                statements.extend([str(query)] * len(params_seq))
                return super().executemany(query, params_seq, **kw)

        dbapi_connection.cursor_factory = Counting

    db.session.close()
    event.listen(db.engine, "checkout", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "checkout", count)
        db.session.close()
        for con in touched:
            if db.engine.dialect.name == "sqlite":
                con.set_trace_callback(None)
            else:
                import psycopg

                con.cursor_factory = psycopg.Cursor


def test_a_batch_of_new_orders_costs_statements_per_chunk_not_per_row(workspace):
    batch, ws = shop_batch(0, ORDERS, ORDERS // 3), workspace.id
    with driver_statements() as statements:
        result = ingest.apply(db.session, ws, batch)
    assert result.counts["orders"] == {"created": ORDERS}
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 2 * ORDERS
    # 3 chunks of 1,024 orders; each new order has 2 lines and a purchase event
    assert len(statements) < 100, Counter(s[:60] for s in statements).most_common(5)


def test_updating_a_batch_of_stored_orders_costs_statements_per_chunk_not_per_row(workspace):
    batch = [
        order(f"E{i}", status="paid", identities=[("yz_open_id", f"b{i}")]) for i in range(ORDERS)
    ]
    ws = workspace.id
    ingest.apply(db.session, ws, batch)
    later = [
        order(f"E{i}", status="completed", version=2, identities=[("yz_open_id", f"b{i}")])
        for i in range(ORDERS)
    ]
    with driver_statements() as statements:
        result = ingest.apply(db.session, ws, later)
    assert result.counts["orders"] == {"updated": ORDERS}
    assert result.counts["lines"] == {"updated": 2 * ORDERS}
    completed = select(func.count()).select_from(Order).where(Order.status == "completed")
    assert db.session.scalar(completed) == ORDERS
    kinds = select(Event.type, func.count()).group_by(Event.type)
    # one purchase an order, one first purchase a buyer (each order's buyer is new)
    assert dict(db.session.execute(kinds).all()) == {"purchase": ORDERS, "first_purchase": ORDERS}
    if db.engine.dialect.name == "sqlite":
        # SQLite's updates by id are one executemany each, run in-process (no round trip per
        # row, only a step of the prepared statement): left out of its count.
        statements = [s for s in statements if not s.startswith("UPDATE")]
    assert len(statements) < 100, Counter(s[:60] for s in statements).most_common(5)
