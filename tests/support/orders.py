"""Builders of canonical records for tests and benchmarks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hub.core.records import (
    Consignee,
    CustomerRecord,
    LineRecord,
    OrderRecord,
    RefundRecord,
)

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def order(
    ext: str = "E1",
    *,
    status: str = "completed",
    identities: list[tuple[str, str]] | None = None,
    paid: str = "100.00",
    version: int = 1,
    refunds: list[tuple[str, str]] | None = None,
    lines: int = 2,
    source: str = "fake",
    at: datetime = T0,
    name: str | None = "Li Lei",
) -> OrderRecord:
    ids = identities if identities is not None else [("yz_open_id", f"yz-{ext}")]
    per_line = (Decimal(paid) / lines).quantize(Decimal("0.01")) if lines else Decimal("0")
    return OrderRecord(
        source=source,
        external_id=ext,
        order_no=ext,
        status=status,
        platform_status=status.upper(),
        ordered_at=at,
        updated_at=at + timedelta(minutes=version),
        version=version,
        amount_total=Decimal(paid),
        amount_paid=Decimal(paid),
        buyer=CustomerRecord(
            identities=ids, name=name, mobile="13912340000", properties={"province": "Zhejiang"}
        ),
        consignee=Consignee(
            name=name,
            phone="13912340000",
            province="Zhejiang",
            city="Hangzhou",
            district="Xihu",
            address="1 Lake Rd",
        ),
        lines=[
            LineRecord(
                external_id=f"{ext}-{i}",
                product_external_id=f"P{i}",
                sku_id=f"S{i}",
                name=f"Tea {i}",
                qty=1,
                unit_price=per_line,
                total=per_line,
                paid=per_line,
            )
            for i in range(lines)
        ],
        refunds=[
            RefundRecord(
                external_id=rid, amount=Decimal(amount), refunded_at=at + timedelta(days=3)
            )
            for rid, amount in (refunds or [])
        ],
        sales_channel="Fake",
        store_id="store-1",
        store_name="Fake Store",
    )


def shop(n_orders: int, n_buyers: int, seed: int = 7, source: str = "fake") -> list[OrderRecord]:
    """A realistic mix: buyers known by yz_open_id, openid, unionid, some sharing a phone."""
    return shop_batch(0, n_orders, n_buyers, seed=seed, source=source)


def shop_batch(
    start: int, count: int, n_buyers: int, seed: int = 7, source: str = "fake"
) -> list[OrderRecord]:
    """Orders start..start+count of a deterministic shop (each order seeded by its index)."""
    out = []
    for i in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + i)
        b = rng.randrange(n_buyers)
        kind = b % 4
        ids = [("yz_open_id", f"yz{b:07d}")]
        if kind >= 1:
            ids.append(("wx_openid", f"oX{b:07d}"))
        if kind >= 2:
            ids.append(("wx_unionid", f"uN{b:07d}"))
        if kind == 3:
            ids.append(("mobile", f"139{b % 100000000:08d}"))
        status = rng.choice(["paid", "shipped", "completed", "completed", "completed"])
        refunds = [(f"R{i}", "10.00")] if rng.random() < 0.05 else None
        out.append(
            order(
                f"E{i:09d}",
                status=status,
                identities=ids,
                paid=f"{rng.randint(10, 900)}.{rng.randint(0, 99):02d}",
                refunds=refunds,
                source=source,
                at=T0 + timedelta(minutes=i),
            )
        )
    return out
