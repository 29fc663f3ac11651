"""Dump the core tables to compare database states (X1, X2): the whole database, or one
workspace in a form another workspace holding the same data can equal."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import (
    Customer,
    CustomerTag,
    Event,
    Group,
    GroupMember,
    Identity,
    Order,
    OrderLine,
    OrderRefund,
    Product,
    Tag,
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


# Columns that differ between two workspaces holding the same data: the row's own surrogate id,
# the workspace and connection it belongs to, and write times.
_NOT_COMPARED = frozenset({"id", "workspace_id", "connection_id", "created_at", "updated_at"})


def workspace_dump(session: Session, workspace_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every core table of one workspace, comparable with another workspace's:
    references by surrogate id become the natural key of the row referred to (a customer's
    identities, an order's or product's source and external id, a tag's or group's name), and
    the columns of ``_NOT_COMPARED`` are left out. Rows are sorted."""
    keys = _natural_keys(session, workspace_id)
    customers = select(Customer.id).where(Customer.workspace_id == workspace_id)
    out = {}
    for model in TABLES:
        table = model.__table__
        stmt = select(table)
        if "workspace_id" in table.c:
            stmt = stmt.where(table.c.workspace_id == workspace_id)
        else:  # customer_tags, group_members: through their customer
            stmt = stmt.where(table.c.customer_id.in_(customers))
        cols = [c for c in table.c if c.name not in _NOT_COMPARED]
        refs = [_referred(keys, c) for c in cols]
        rows = [
            tuple(
                v if ref is None or v is None else ref[v] for v, ref in zip(row, refs, strict=True)
            )
            for row in session.execute(stmt.with_only_columns(*cols))
        ]
        if table is Event.__table__:  # a first purchase's key names its customer by id
            at = [c.name for c in cols].index("dedupe_key")
            rows = [row[:at] + (_first_key(keys, row[at]),) + row[at + 1 :] for row in rows]
        out[table.name] = sorted(rows, key=repr)
    return out


def _first_key(keys: dict[str, dict[int, Any]], dedupe_key: str) -> Any:
    """``first_purchase:<customer id>`` with the customer's natural key instead of its id."""
    kind, _, customer_id = dedupe_key.partition(":")
    if kind != "first_purchase" or not customer_id.isdigit():
        return dedupe_key
    return (kind, keys["customers"].get(int(customer_id), customer_id))


def _referred(keys: dict[str, dict[int, Any]], column: Any) -> dict[int, Any] | None:
    """For a reference, the natural keys of the rows it may refer to (by id); else None."""
    for fk in column.foreign_keys:
        return keys[fk.column.table.name]
    return None


def _natural_keys(session: Session, workspace_id: int) -> dict[str, dict[int, Any]]:
    ws = workspace_id
    identities: dict[int, list[tuple[str, str]]] = {}
    stmt = select(Identity.customer_id, Identity.type, Identity.value)
    for customer_id, kind, value in session.execute(stmt.where(Identity.workspace_id == ws)):
        identities.setdefault(customer_id, []).append((kind, value))
    people = session.execute(
        select(Customer.id, Customer.name, Customer.mobile).where(Customer.workspace_id == ws)
    ).all()
    return {
        "customers": {
            cid: tuple(sorted(identities.get(cid, ()))) or ("no identity", name, mobile)
            for cid, name, mobile in people
        },
        "orders": _by_source(session, Order, ws),
        "products": _by_source(session, Product, ws),
        "tags": _names(session, Tag, ws),
        "groups": _names(session, Group, ws),
    }


def _names(session: Session, model: Any, workspace_id: int) -> dict[int, str]:
    stmt = select(model.id, model.name).where(model.workspace_id == workspace_id)
    return {row_id: name for row_id, name in session.execute(stmt)}


def _by_source(session: Session, model: Any, workspace_id: int) -> dict[int, tuple[str, str]]:
    stmt = select(model.id, model.source, model.external_id)
    rows = session.execute(stmt.where(model.workspace_id == workspace_id))
    return {row_id: (source, external) for row_id, source, external in rows}


def difference(got: dict[str, list[tuple]], want: dict[str, list[tuple]]) -> str:
    """Per table, how many of ``want``'s rows ``got`` lacks and how many it has besides."""
    parts = []
    for table in sorted(want.keys() | got.keys()):
        have, need = Counter(map(repr, got.get(table, []))), Counter(map(repr, want.get(table, [])))
        missing, unexpected = (need - have).total(), (have - need).total()
        if missing or unexpected:
            parts.append(f"{table}: {missing} missing, {unexpected} unexpected")
    return "; ".join(parts) or "no difference"
