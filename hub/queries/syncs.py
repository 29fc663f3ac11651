"""Sync runs and webhook deliveries, per store (connection) and status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from hub.extensions import db
from hub.models import SyncRun, WebhookDelivery
from hub.queries.paging import in_workspace, text_arg
from hub.services import parsing


@dataclass(frozen=True)
class RunFilter:
    connection_id: int | None = None
    status: str | None = None

    @classmethod
    def from_args(cls, args: Any, store_arg: str = "connection_id") -> RunFilter:
        """From ``connection_id`` (the pages call it ``store``) and ``status``."""
        return cls(parsing.record_id(args.get(store_arg), store_arg), text_arg(args, "status"))


def runs(workspace_id: int, f: RunFilter) -> Select[Any]:
    """The workspace's sync runs matching ``f``, newest first."""
    stmt = select(SyncRun).where(SyncRun.workspace_id == workspace_id)
    if f.connection_id:
        stmt = stmt.where(SyncRun.connection_id == f.connection_id)
    if f.status:
        stmt = stmt.where(SyncRun.status == f.status)
    return stmt.order_by(SyncRun.id.desc())


def recent_runs(workspace_id: int, connection_id: int, limit: int) -> list[SyncRun]:
    stmt = runs(workspace_id, RunFilter(connection_id=connection_id)).limit(limit)
    return list(db.session.scalars(stmt))


def get_run(workspace_id: int, run_id: int) -> SyncRun:
    return in_workspace(SyncRun, workspace_id, run_id, "sync")


def deliveries(workspace_id: int, f: RunFilter) -> Select[Any]:
    """The workspace's webhook deliveries matching ``f``, newest first."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.workspace_id == workspace_id)
    if f.connection_id:
        stmt = stmt.where(WebhookDelivery.connection_id == f.connection_id)
    if f.status:
        stmt = stmt.where(WebhookDelivery.status == f.status)
    return stmt.order_by(WebhookDelivery.id.desc())
