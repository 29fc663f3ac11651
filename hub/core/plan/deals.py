"""The row sets of deals (H5, H6): an order's deal written beside its order, a checkout's deal
and its ``checkout_abandoned`` event. In memory, like ``hub.core.plan.rows``; the stages are
``hub.core.plan.stages``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.core.plan.rows import Placed
from hub.core.plan.stages import (
    ABANDONED,
    checkout_stage,
    deal_properties,
    forward,
    order_stage,
)
from hub.core.records import CheckoutRecord

DEAL_COLUMNS = (
    "workspace_id",
    "connection_id",
    "source",
    "kind",
    "external_id",
    "order_id",
    "customer_id",
    "name",
    "stage",
    "amount",
    "currency",
    "properties",
    "line_items",
    "checkout_token",
    "stage_at",
    "version",
    "created_at",
    "updated_at",
)
CHECKOUT_ABANDONED = "checkout_abandoned"


@dataclass(slots=True)
class StoredDeal:
    """What the core holds of a deal: its id, stage and the version its stage came from."""

    id: int
    stage: str
    version: int


@dataclass
class DealRows:
    inserts: list[tuple[Any, ...]]
    updates: list[dict[str, Any]]  # by id, the same keys each
    takeovers: list[dict[str, Any]]  # a checkout's deal handed on to its order


def order_deal_rows(
    head: tuple[int, int | None],
    placed: Iterable[Placed],
    stored: dict[int, StoredDeal],
    checkouts: dict[str, StoredDeal],
    now: datetime,
) -> DealRows:
    """The deals of the orders placed. ``stored``: the stored orders' deals by order id;
    ``checkouts``: checkout deals by token, taken over (and removed from the dict) by a new
    order whose ``checkout_token`` names them. The planner already dropped order snapshots
    older than the stored order, so each stored stage only goes :func:`forward`."""
    rows = DealRows([], [], [])
    for rec, plan, oid, cid in placed:
        props = rec.properties
        stage = order_stage(plan.status, props)
        h8 = deal_properties(props) if props else {}
        name = h8.get("name") or rec.order_no or rec.external_id
        token = props.get("checkout_token") if props else None
        amount = rec.amount_total if rec.amount_total is not None else rec.amount_paid
        version = rec.effective_version()
        at = rec.updated_at or rec.ordered_at
        old = stored.get(oid)
        if old is None and token and token in checkouts:
            old = checkouts.pop(token)
            rows.takeovers.append(
                {
                    "id": old.id,
                    "kind": "order",
                    "external_id": rec.external_id,
                    "order_id": oid,
                    "line_items": None,
                    "customer_id": cid,
                    "name": str(name),
                    "stage": forward(old.stage, stage),
                    "amount": amount,
                    "currency": rec.currency,
                    "properties": h8,
                    "checkout_token": token,
                    "stage_at": at,
                    "version": version,
                    "updated_at": now,
                }
            )
            stored[oid] = StoredDeal(old.id, forward(old.stage, stage), version)
        elif old is None:
            rows.inserts.append(
                (*head, rec.source, "order", rec.external_id, oid, cid, str(name), stage,
                 amount, rec.currency, h8, None, token, at, version, now, now)
            )  # fmt: skip
        else:
            new = forward(old.stage, stage)
            rows.updates.append(
                {
                    "id": old.id,
                    "customer_id": cid,
                    "name": str(name),
                    "stage": new,
                    "amount": amount,
                    "currency": rec.currency,
                    "properties": h8,
                    "checkout_token": token,
                    "stage_at": at,
                    "version": version,
                    "updated_at": now,
                }
            )
            old.stage, old.version = new, version
    return rows


def checkout_version(rec: CheckoutRecord) -> int:
    """A checkout snapshot's version: its update (else creation) time in ms."""
    return int((rec.updated_at or rec.created_at).timestamp() * 1000)


def checkout_token(rec: CheckoutRecord) -> str | None:
    token = rec.token or rec.properties.get("token")
    return str(token) if token else None


def checkout_line_items(rec: CheckoutRecord) -> list[dict[str, Any]]:
    """A checkout's lines as the API shows them (money as strings: JSON keeps no Decimal)."""
    return [
        {
            "product_external_id": line.product_external_id,
            "sku": line.sku_id,
            "name": line.name,
            "qty": line.qty,
            "price": None if line.unit_price is None else str(line.unit_price),
        }
        for line in rec.lines
    ]


def checkout_deal_rows(
    head: tuple[int, int | None],
    checkouts: Iterable[tuple[CheckoutRecord, int | None]],
    stored: dict[tuple[str, str], StoredDeal],
    now: datetime,
) -> tuple[DealRows, list[tuple[CheckoutRecord, int | None]]]:
    """The deals of checkouts (with their customer ids), and the checkouts now abandoned (their
    ``checkout_abandoned`` event is due, once per checkout). ``stored``: stored checkout deals
    by (source, external id); a snapshot older than the stored one changes nothing (X3)."""
    rows = DealRows([], [], [])
    abandoned = []
    for rec, cid in checkouts:
        version = checkout_version(rec)
        old = stored.get((rec.source, rec.external_id))
        if old is not None and version < old.version:
            continue
        at = rec.updated_at or rec.created_at
        stage = forward(old.stage if old else None, checkout_stage(rec.completed_at, at, now))
        h8 = deal_properties(rec.properties)
        name = h8.get("name") or f"Checkout {rec.external_id}"
        token = checkout_token(rec)
        lines = checkout_line_items(rec)
        if old is None:
            rows.inserts.append(
                (*head, rec.source, "checkout", rec.external_id, None, cid, str(name), stage,
                 rec.amount_total, rec.currency, h8, lines, token, at, version, now, now)
            )  # fmt: skip
        else:
            rows.updates.append(
                {
                    "id": old.id,
                    "customer_id": cid,
                    "name": str(name),
                    "stage": stage,
                    "amount": rec.amount_total,
                    "currency": rec.currency,
                    "properties": h8,
                    "line_items": lines,
                    "checkout_token": token,
                    "stage_at": at,
                    "version": version,
                    "updated_at": now,
                }
            )
        if stage == ABANDONED:
            abandoned.append((rec, cid))
    return rows, abandoned


def abandoned_event_rows(
    workspace_id: int,
    abandoned: Iterable[tuple[CheckoutRecord, int | None]],
    seen: set[str],
    now: datetime,
) -> list[tuple[Any, ...]]:
    """The ``checkout_abandoned`` events (EVENT_COLUMNS) not recorded before: one per checkout
    (dedupe key ``<source>:checkout:<id>:abandoned``)."""
    rows = []
    for rec, cid in abandoned:
        key = f"{rec.source}:checkout:{rec.external_id}:abandoned"
        if key in seen:
            continue
        seen.add(key)
        props: dict[str, Any] = {"checkout_id": rec.external_id, "lines": len(rec.lines)}
        if url := rec.properties.get("abandoned_checkout_url"):
            props["abandoned_checkout_url"] = url
        rows.append(
            (workspace_id, cid, None, CHECKOUT_ABANDONED, rec.updated_at or rec.created_at,
             rec.amount_total, rec.source, props, key, now)
        )  # fmt: skip
    return rows
