"""Deals of the ecommerce pipeline (H5, H6): the list by source, stage and customer, one deal,
the lines each shows (a checkout's own, an order's from ``order_lines``) and the board's
count and amount per stage."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from hub.core.plan.stages import STAGES
from hub.core.sources import unique_keys
from hub.extensions import db
from hub.models import Deal, OrderLine
from hub.queries.paging import in_workspace, source_spellings, text_arg
from hub.services import parsing
from hub.services.customers import N_


@dataclass(frozen=True)
class DealFilter:
    source: str | None = None
    stage: str | None = None
    customer_id: int | None = None

    @classmethod
    def from_args(cls, args: Any) -> DealFilter:
        """From query arguments source, stage, customer_id; an unknown stage is refused
        naming the argument."""
        stage = text_arg(args, "stage")
        if stage is not None and stage not in STAGES:
            raise parsing.Refused(
                N_("stage must be one of %(stages)s, not %(got)s."),
                field="stage", stages=", ".join(STAGES), got=repr(stage),
            )  # fmt: skip
        return cls(
            source=text_arg(args, "source"),
            stage=stage,
            customer_id=parsing.record_id(args.get("customer_id"), "customer_id"),
        )


def _where(stmt: Select[Any], workspace_id: int, f: DealFilter) -> Select[Any]:
    stmt = stmt.where(Deal.workspace_id == workspace_id)
    if f.source:
        stmt = stmt.where(func.lower(Deal.source).in_(source_spellings(f.source)))
    if f.stage:
        stmt = stmt.where(Deal.stage == f.stage)
    if f.customer_id:
        stmt = stmt.where(Deal.customer_id == f.customer_id)
    return stmt


def search(workspace_id: int, f: DealFilter) -> Select[Any]:
    """The workspace's deals matching ``f``, newest first."""
    stmt = _where(select(Deal), workspace_id, f)
    return stmt.order_by(Deal.stage_at.desc(), Deal.id.desc())


def get(workspace_id: int, deal_id: int) -> Deal:
    return in_workspace(Deal, workspace_id, deal_id, "deal")


def line_items(deals: list[Deal]) -> dict[int, list[dict[str, Any]]]:
    """Each deal's lines by deal id, [{product_external_id, sku, name, qty, price}]: a
    checkout's as kept, an order's read from its order lines (one query for the page)."""
    found: dict[int, list[dict[str, Any]]] = {d.id: list(d.line_items or []) for d in deals}
    by_order = {d.order_id: d.id for d in deals if d.order_id is not None}
    if by_order:
        rows = db.session.execute(
            select(OrderLine.order_id, OrderLine.product_external_id, OrderLine.sku_id,
                   OrderLine.name, OrderLine.qty, OrderLine.unit_price)
            .where(OrderLine.order_id.in_(list(by_order)))
            .order_by(OrderLine.order_id, OrderLine.id)
        )  # fmt: skip
        lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for oid, product, sku, name, qty, price in rows:
            lines[oid].append(
                {
                    "product_external_id": product,
                    "sku": sku,
                    "name": name,
                    "qty": qty,
                    "price": None if price is None else str(price),
                }
            )
        for oid, deal_id in by_order.items():
            found[deal_id] = lines.get(oid, [])
    return found


def board(workspace_id: int, f: DealFilter) -> dict[str, tuple[int, dict[str, Decimal]]]:
    """Per stage (every stage present), the number of deals matching ``f`` and their amount
    per currency."""
    stmt = _where(
        select(Deal.stage, Deal.currency, func.count(), func.coalesce(func.sum(Deal.amount), 0)),
        workspace_id,
        f,
    ).group_by(Deal.stage, Deal.currency)
    totals: dict[str, tuple[int, dict[str, Decimal]]] = {stage: (0, {}) for stage in STAGES}
    for stage, currency, n, amount in db.session.execute(stmt):
        count, amounts = totals.get(stage, (0, {}))
        amounts[currency] = Decimal(str(amount)).quantize(Decimal("0.01"))
        totals[stage] = (count + int(n), amounts)
    return totals


def sources(workspace_id: int) -> list[str]:
    stmt = select(Deal.source).where(Deal.workspace_id == workspace_id).distinct()
    return unique_keys(db.session.scalars(stmt))
