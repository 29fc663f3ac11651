"""Start, dry-run and list imports. The web, the API and the CLI all come through here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from flask import Flask, current_app
from werkzeug.utils import secure_filename

from hub.core.errors import NotFound, ValidationFailed
from hub.extensions import db
from hub.imports.lookups import (  # noqa: F401  (part of this service)
    clean_filename,
    connector_for,
    custom_fields,
    file_kinds,
    kinds,
    resolve_group,
    time_zone,
)
from hub.models import ImportRun
from hub.queries import imports as q_imports

POLICIES = ("new_only", "all")
Upload = tuple[str, IO[bytes] | Path]  # (original name, stream or a path to copy)


def upload_root(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config.get("UPLOAD_FOLDER") or Path(app.instance_path) / "uploads")


def clean_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Pre-import settings (I5): group, tags, original source / campaign and its policy."""
    out: dict[str, Any] = {}
    policy = settings.get("original_source_policy") or "new_only"
    if policy not in POLICIES:
        raise ValidationFailed(
            "Original source: apply it to new customers only (new_only) or to all (all)",
            field="policy",
        )
    out["original_source_policy"] = policy
    for key in ("group", "original_source", "campaign"):
        if settings.get(key):
            out[key] = str(settings[key]).strip()[:100]
    tags = settings.get("tags") or []
    out["tags"] = sorted({str(t).strip()[:100] for t in tags if str(t).strip()})
    if settings.get("mapping"):
        mapping = settings["mapping"]
        if not isinstance(mapping, dict):
            raise ValidationFailed(
                'Column mapping: send an object of column → field, such as {"Phone": "mobile"}',
                field="mapping",
            )
        out["mapping"] = {str(k): str(v) for k, v in mapping.items()}
    return out


def start(
    workspace_id: int,
    kind: str,
    uploads: Sequence[Upload],
    *,
    settings: dict[str, Any] | None = None,
    dry_run: bool = False,
    created_by: str | None = None,
    enqueue: bool = True,
) -> ImportRun:
    """Store the files, record the run, check the files can be taken, then queue (or run) it.

    Only each file's start is read here (its header: a bounded preview, as this runs in web
    requests): a file that cannot be opened or lacks a column is refused with
    ValidationFailed, and the run stays in the history as failed with that reason. The whole
    file is read by the import job, which refuses a file over a limit (too many rows, a row
    too long) before anything is written to the core. Run inline (``enqueue=False``), that
    refusal is raised here too.
    """
    cls = connector_for(kind)
    cls.check_count(uploads)
    run = ImportRun(workspace_id=workspace_id, kind=kind, created_by=created_by,
                    dry_run=dry_run, settings=clean_settings(settings or {}), files=[])  # fmt: skip
    db.session.add(run)
    db.session.commit()
    run.files = _store(run, uploads)
    db.session.commit()
    from hub.imports import jobs

    try:
        opened = jobs.open_run(run)
    except ValidationFailed as exc:
        jobs.mark_failed(run, str(exc))
        raise
    if opened.summary.get("mapping"):
        run.settings = {**run.settings, "mapping": opened.summary["mapping"]}
    db.session.commit()
    if enqueue:
        jobs.enqueue(run)
    else:
        jobs.execute(run.id, opened, reraise=True)
    return db.session.get(ImportRun, run.id)


def _store(run: ImportRun, uploads: Sequence[Upload]) -> list[dict[str, str]]:
    folder = upload_root() / str(run.workspace_id) / str(run.id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for n, (raw, source) in enumerate(uploads, start=1):
        name = clean_filename(raw)
        target = folder / f"{n}-{secure_filename(name) or 'upload'}"
        if isinstance(source, Path):
            shutil.copyfile(source, target)
        else:
            with target.open("wb") as out:
                shutil.copyfileobj(source, out)
        stored.append({"path": str(target), "name": name})
    return stored


def check_upload(kind: str, files: Sequence[tuple[Path, str]]) -> None:
    """The upload step's check, before mapping and settings: the number of files and that they
    are the files ``kind`` takes (readable, with the columns it needs). Raises ValidationFailed
    saying which files are expected."""
    connector_for(kind).check_upload(files)


def preview(workspace_id: int, kind: str, files: Sequence[tuple[Path, str]]) -> dict[str, Any]:
    """Before an import: the files' headers and, for customers, the suggested column mapping
    and every possible target (I2). Raises ValidationFailed for a file that cannot be read."""
    cls = connector_for(kind)
    context = cls.make_context(*custom_fields(workspace_id), time_zone(workspace_id))
    return cls.preview(files, context)


def check_mapping(
    workspace_id: int, kind: str, files: Sequence[tuple[Path, str]], mapping: dict[str, str]
) -> None:
    """Open the files with ``mapping`` as an import would, writing nothing; raises
    ValidationFailed naming the column when the mapping cannot be taken (I2)."""
    cls = connector_for(kind)
    context = cls.make_context(*custom_fields(workspace_id), time_zone(workspace_id))
    cls.open_import(files, {"mapping": mapping}, context)


def template(kind: str, path: Path) -> Path:
    """Write the template of ``kind`` (required columns marked *) to ``path`` (.xlsx/.csv)."""
    return connector_for(kind).write_template(path)


def get_run(workspace_id: int, run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id)
    if run is None or run.workspace_id != workspace_id:
        raise NotFound(f"import {run_id} not found")
    return run


def history(workspace_id: int, limit: int = 50, kind: str | None = None) -> list[ImportRun]:
    """Every import, newest first, with who, when, the original files and the failure file."""
    query = q_imports.runs(workspace_id, q_imports.ImportFilter(kind=kind or None))
    return list(db.session.scalars(query.limit(limit)))


def failure_file(workspace_id: int, run_id: int) -> Path:
    run = get_run(workspace_id, run_id)
    if not run.failure_path or not Path(run.failure_path).exists():
        raise NotFound(f"import {run_id} has no failure file")
    return Path(run.failure_path)


def failure_rows(workspace_id: int, run_id: int) -> tuple[list[str], Iterator[list[str]]]:
    """The failure file's header and its rows, streamed (a .csv or .xlsx failure file alike):
    what the CSV export of an import's failures sends."""
    from connectors.files.reader import open_table

    table = open_table(failure_file(workspace_id, run_id))
    return list(table.headers), (row.cells for row in table.rows())


def original_file(workspace_id: int, run_id: int, index: int = 0) -> tuple[Path, str]:
    run = get_run(workspace_id, run_id)
    try:
        entry = run.files[index]
    except IndexError:
        raise NotFound(f"import {run_id} has no file {index}") from None
    return Path(entry["path"]), clean_filename(entry["name"])  # also names kept before cleaning
