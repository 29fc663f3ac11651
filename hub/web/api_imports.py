"""/api/v1/imports: upload (multipart) to start an import, list the history, read one run,
download its failure file or its original files. Routes attach to the api blueprint."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request, send_file

from hub.core.errors import ValidationFailed
from hub.imports import service
from hub.services import parsing
from hub.web import csv_export
from hub.web.api_base import bp, workspace_id

TRUE = ("1", "true", "yes", "on")


@bp.post("/imports")
def create_import() -> Any:
    """multipart/form-data: kind, file (one or more; Tmall takes two), and optionally
    group, tag (repeatable), original_source, campaign, original_source_policy,
    mapping (JSON {column: target}), dry_run."""
    form = request.form
    kind = form.get("kind", "")
    uploads = [(f.filename or "upload", f.stream) for f in request.files.getlist("file")]
    if not uploads:
        raise ValidationFailed(
            "No file was attached: send each file to import as a form field named “file”",
            field="file",
        )
    settings = {
        "group": form.get("group"),
        "tags": form.getlist("tag"),
        "original_source": form.get("original_source"),
        "campaign": form.get("campaign"),
        "original_source_policy": form.get("original_source_policy"),
        "mapping": _mapping(form.get("mapping")),
    }
    token = getattr(g, "api_token", None)
    run = service.start(
        workspace_id(),
        kind,
        uploads,
        settings=settings,
        dry_run=form.get("dry_run", "").lower() in TRUE,
        created_by=f"token:{token.name}" if token is not None else None,
    )
    return jsonify(run.to_dict()), 202


def _mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        value = parsing.json_value(raw)
    except ValueError:
        raise ValidationFailed(
            'Column mapping: not valid JSON; send an object such as {"Phone": "mobile"}',
            field="mapping",
        ) from None
    if not isinstance(value, dict):
        raise ValidationFailed(
            'Column mapping: send an object of column → field, such as {"Phone": "mobile"}',
            field="mapping",
        )
    return value


@bp.get("/imports")
def list_imports() -> Any:
    limit = parsing.whole_number(request.args.get("limit"), "limit", default=50, low=1, high=200)
    runs = service.history(workspace_id(), limit=limit, kind=request.args.get("kind"))
    return jsonify(items=[r.to_dict() for r in runs])


@bp.get("/imports/<int:run_id>")
def get_import(run_id: int) -> Any:
    return jsonify(service.get_run(workspace_id(), run_id).to_dict())


@bp.get("/imports/<int:run_id>/failures")
def import_failures(run_id: int) -> Any:
    path = service.failure_file(workspace_id(), run_id)
    return send_file(path, as_attachment=True, download_name=path.name)


@bp.get("/imports/<int:run_id>/failures.csv")
def import_failures_csv(run_id: int) -> Any:
    """The failed rows with their reasons as streamed CSV, whatever the failure file's format."""
    header, rows = service.failure_rows(workspace_id(), run_id)
    return csv_export.response(f"import-{run_id}-failures.csv", header, rows)


@bp.get("/imports/<int:run_id>/files/<int:index>")
def import_original(run_id: int, index: int) -> Any:
    path, name = service.original_file(workspace_id(), run_id, index)
    return send_file(path, as_attachment=True, download_name=name)


@bp.get("/imports/templates/<kind>")
def import_template(kind: str) -> Any:
    """The template of ``kind`` (?format=xlsx|csv), required columns marked *."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("Template format: choose xlsx or csv", field="format")
    path = service.upload_root() / "templates" / f"{kind}-template.{fmt}"
    service.template(kind, path)
    return send_file(path, as_attachment=True, download_name=path.name)
