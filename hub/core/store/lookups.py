"""The resolver's lookups (``hub.core.plan.identity.Lookups``) answered through the session,
on any engine."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.plan.identity import Lookups, Pending, Ready
from hub.core.store.sql import CHUNK, count_by, fetch_by
from hub.models import Customer, Identity


def session_lookups(session: Session, workspace_id: int) -> Lookups:
    """Owners and identity counts read in the session's transaction (it sees the batch's own
    writes so far)."""

    def owners(type_: str, values: Iterable[str]) -> Pending:
        if type_ == "customer_id":  # the value is the customer's own id (a merged one's heir)
            return Ready(_customer_ids(session, workspace_id, values))
        table = Identity.__table__
        columns = ["value", "customer_id"]
        return Ready(
            fetch_by(session, table, columns, "value", values, named=False,
                     workspace_id=workspace_id, type=type_)
        )  # fmt: skip

    def counts(customer_ids: set[int]) -> list[tuple[int, str, int]]:
        return count_by(session, Identity.__table__, "customer_id", "type", customer_ids)

    return Lookups(owners, counts)


def _customer_ids(
    session: Session, workspace_id: int, values: Iterable[str]
) -> list[tuple[str, int]]:
    ids = sorted({int(v) for v in values if v.isascii() and v.isdigit()})
    cust = Customer.__table__.c
    rows: list[tuple[int, int | None]] = []
    for i in range(0, len(ids), CHUNK):
        rows += session.execute(
            select(cust.id, cust.merged_into_id).where(
                cust.workspace_id == workspace_id, cust.id.in_(ids[i : i + CHUNK])
            )
        ).all()
    return [(str(cid), merged_into or cid) for cid, merged_into in rows]
