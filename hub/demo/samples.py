"""The demo step that imports the sample spreadsheets shipped with the file connectors: each
registered file connector declares its samples (``FileConnector.samples``).

Each sample goes through ``hub.imports.service.start`` like an upload from the web, run in
this process (the worker may still be syncing; SQLite is in WAL mode). Imports are
idempotent, so a demo run again on the same folder adds an import to the history and
changes no customer or order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.core.errors import ValidationFailed
from hub.imports import service

COUNTS = ("created", "updated", "skipped", "failed")


def sample_files(kind: str) -> list[Path]:
    """The sample files of ``kind``, as its connector declares them (upload order)."""
    return service.connector_for(kind).sample_files()


def import_samples(workspace_id: int) -> dict[str, Any]:
    """Import the samples of every registered kind that declares some; counts per kind for
    the demo summary."""
    imports: dict[str, dict[str, Any]] = {}
    for kind, cls in service.kinds().items():
        if cls.samples:
            imports[kind] = _import_one(workspace_id, kind)
    failed = sum(int(entry.get("failed", 0)) for entry in imports.values())
    broken = [k for k, entry in imports.items() if entry["status"] != "succeeded"]
    status = f"failed ({', '.join(broken)})" if broken else "imported"
    if not imports:
        status = "skipped (no import kind registered)"
    return {"status": status, "imports": imports, "failed_rows": failed}


def _import_one(workspace_id: int, kind: str) -> dict[str, Any]:
    uploads = [(path.name, path) for path in sample_files(kind)]
    settings = {"original_source": "Demo sample", "tags": ["demo sample"]}
    try:
        run = service.start(
            workspace_id, kind, uploads, settings=settings, created_by="hub demo", enqueue=False
        )
    except ValidationFailed as exc:
        return {"status": "failed", "error": str(exc), **dict.fromkeys(COUNTS, 0)}
    entry: dict[str, Any] = {"import_id": run.id, "status": run.status}
    entry.update({name: int(getattr(run, name) or 0) for name in COUNTS})
    if run.error:
        entry["error"] = run.error
    if run.failure_path:
        entry["failure_file"] = run.failure_path
    return entry
