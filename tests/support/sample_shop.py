"""A generated shop for tests and benchmarks: canonical OrderRecords written through
``hub.core.ingest.apply`` like any other source (never straight into the tables)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from hub.core.records import CustomerRecord, LineRecord, OrderRecord, RefundRecord

SOURCES = (("youzan", "Youzan Tea House"), ("shopify", "Tributary Shopify"), ("tmall", "Tmall"))
PRODUCTS = [(f"sku-{i:02d}", f"Tea {i:02d}", Decimal(18 + 7 * (i % 9))) for i in range(1, 25)]
PAIRS = {3: 17, 5: 21, 8: 2}  # planted affinities: a buyer of the key often adds the value


def iter_sample_orders(
    orders: int,
    customers: int,
    seed: int = 7,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    days: int = 180,
    batch: int = 2000,
) -> Iterator[tuple[list[OrderRecord], list[OrderRecord]]]:
    """The same shop in batches of ``batch`` orders: (first snapshots, closing snapshots)."""
    rng = random.Random(seed)
    cumulative = list(accumulate(1 / (k + 1) ** 0.8 for k in range(customers)))
    for offset in range(0, orders, batch):
        size = min(batch, orders - offset)
        buyers = rng.choices(range(customers), cum_weights=cumulative, k=size)
        first = [_order(rng, offset + i, b, start, days) for i, b in enumerate(buyers)]
        later = [_closed(rec) for rec in first if rec.status == "paid" and rng.random() < 0.3]
        yield first, later


def _buyer(k: int) -> CustomerRecord:
    return CustomerRecord(identities=[("mobile", f"139{10_000_000 + k:08d}")], name=f"Buyer {k}")


def _lines(rng: random.Random, n: int) -> list[LineRecord]:
    picks = {rng.randrange(len(PRODUCTS)) for _ in range(rng.choice([1, 1, 2, 2, 3, 4]))}
    for key, mate in PAIRS.items():
        if key in picks and rng.random() < 0.6:
            picks.add(mate)
    out = []
    for i, p in enumerate(sorted(picks)):
        sku, name, price = PRODUCTS[p]
        qty = rng.choice([1, 1, 1, 2, 3])
        total = price * qty
        out.append(LineRecord(f"{n}-{i}", sku, sku, name, qty, price, total, total))
    return out


def _order(rng: random.Random, n: int, buyer: int, start: datetime, days: int) -> OrderRecord:
    source, store = SOURCES[n % len(SOURCES)]
    when = start + timedelta(minutes=rng.randrange(days * 24 * 60))
    lines = _lines(rng, n)
    total = sum((line.total or Decimal(0) for line in lines), Decimal(0))
    status = rng.choices(["completed", "shipped", "paid", "pending"], [70, 12, 12, 6])[0]
    refunds = []
    if status == "completed" and rng.random() < 0.12:
        share = rng.choice([Decimal("0.5"), Decimal("1")])
        amount = (total * share).quantize(Decimal("0.01"))
        refunds.append(RefundRecord(f"r{n}", amount, when + timedelta(days=rng.randint(3, 20))))
    return OrderRecord(
        source=source,
        external_id=f"{source}-{n}",
        order_no=f"NO{n:07d}",
        status=status,
        ordered_at=when,
        version=1,
        buyer=_buyer(buyer),
        lines=lines,
        refunds=refunds,
        amount_total=total,
        amount_paid=None if status == "pending" else total,
        paid_at=None if status == "pending" else when,
        store_id=source,
        store_name=store,
        sales_channel="online",
    )


def _closed(rec: OrderRecord) -> OrderRecord:
    fields: dict[str, Any] = {k: getattr(rec, k) for k in rec.__slots__}  # type: ignore[attr-defined]
    fields.update(status="closed", version=2, closed_at=rec.ordered_at + timedelta(days=1))
    return OrderRecord(**fields)


def load_sample_shop(session: Any, workspace_id: int, batch: int = 1000, **kwargs: Any) -> dict:
    """Generate a shop and apply it through the ingest, batch by batch; returns counts."""
    from hub.core.ingest import apply

    counts = {"orders": 0, "closed": 0}
    for first, later in iter_sample_orders(batch=batch, **kwargs):
        apply(session, workspace_id, first)
        if later:
            apply(session, workspace_id, later)
        counts["orders"] += len(first)
        counts["closed"] += len(later)
    return counts
