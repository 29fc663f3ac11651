"""Dump the core tables to compare database states (X1, X2)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import (
    Customer,
    CustomerTag,
    Event,
    GroupMember,
    Identity,
    Order,
    OrderLine,
    OrderRefund,
    Product,
)

TABLES = (
    Customer,
    Identity,
    CustomerTag,
    GroupMember,
    Product,
    Order,
    OrderLine,
    OrderRefund,
    Event,
)


def dump(session: Session, ignore: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every core table, ids and timestamps included (less ``ignore``), sorted."""
    out = {}
    for model in TABLES:
        table = model.__table__
        cols = [c for c in table.c if c.name not in ignore]
        rows = session.execute(select(*cols)).all()
        out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out
