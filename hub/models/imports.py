"""Spreadsheet imports: one row per import job (I6), for progress, counts and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Model
from hub.models.types import UTCDateTime, utcnow


class ImportRun(Model):
    """Business status of one import; RQ only carries it. ``files`` are the stored originals."""

    __tablename__ = "import_runs"
    __table_args__ = (Index("ix_import_runs_ws_created", "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(40))  # a FileConnector.import_kind
    created_by: Mapped[str | None] = mapped_column(String(320))  # user email or "cli"/token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{path, name}]
    failure_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    # queued | running | succeeded | failed
    dry_run: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(100))
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # ingest's full counts
    error: Mapped[str | None] = mapped_column(Text)

    FINISHED = ("succeeded", "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "dry_run": self.dry_run,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "files": [f["name"] for f in self.files or []],
            "has_failures": bool(self.failure_path),
            "progress": {"done": self.progress_done, "total": self.progress_total},
            "counts": {
                "created": self.created,
                "updated": self.updated,
                "skipped": self.skipped,
                "failed": self.failed,
            },
            "detail": self.counts or {},
            "settings": {k: v for k, v in (self.settings or {}).items() if k != "mapping"},
            "mapping": (self.settings or {}).get("mapping"),
            "error": self.error,
        }
