"""File imports: the workspace's import runs, newest first, optionally of one kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from hub.models import ImportRun
from hub.queries.paging import text_arg


@dataclass(frozen=True)
class ImportFilter:
    kind: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> ImportFilter:
        return cls(kind=text_arg(args, "kind"))


def runs(workspace_id: int, f: ImportFilter) -> Select[Any]:
    stmt = select(ImportRun).where(ImportRun.workspace_id == workspace_id)
    if f.kind:
        stmt = stmt.where(ImportRun.kind == f.kind)
    return stmt.order_by(ImportRun.id.desc())
