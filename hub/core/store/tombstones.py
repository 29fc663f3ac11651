"""The store's half of tombstones (``hub.core.plan.tombstones``): read and written through
the session."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.plan.tombstones import Tombstones
from hub.models import CustomerTombstone


def load(session: Session, workspace_id: int) -> Tombstones:
    """The workspace's tombstones: one indexed probe when there are none (the common case),
    else every digest of the workspace (deletions are rare, a digest is 64 bytes)."""
    table = CustomerTombstone.__table__
    where = table.c.workspace_id == workspace_id
    if session.execute(select(table.c.id).where(where).limit(1)).first() is None:
        return Tombstones(frozenset())
    return Tombstones(frozenset(session.scalars(select(table.c.digest).where(where))))


def bury(session: Session, workspace_id: int, digests: Iterable[str]) -> int:
    """Add the digests the workspace does not hold yet; returns how many were added."""
    wanted = set(digests)
    if not wanted:
        return 0
    table = CustomerTombstone.__table__
    held = set(
        session.scalars(
            select(table.c.digest).where(
                table.c.workspace_id == workspace_id, table.c.digest.in_(wanted)
            )
        )
    )
    rows = [{"workspace_id": workspace_id, "digest": d} for d in sorted(wanted - held)]
    if rows:
        session.execute(table.insert(), rows)
    return len(rows)
