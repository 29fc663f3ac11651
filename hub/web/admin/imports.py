"""Imports: upload, column mapping (customer files), pre-import settings (I5), and the history
with original and failure files (I6). The import itself is ``hub.imports.service.start``."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.utils import secure_filename

from hub.core.errors import HubError, NotFound, QueueUnavailable
from hub.imports import service
from hub.queries import imports as q_imports
from hub.queries import workspace as q_workspace
from hub.services import parsing
from hub.web import csv_export
from hub.web.admin import import_preview
from hub.web.admin.common import error_text, paginate
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import _

bp = Blueprint("imports", __name__, url_prefix="/imports")
STAGE_KEY = "import_stage"


@bp.get("")
@login_required
def index() -> Any:
    filters = q_imports.ImportFilter.from_args(request.args)
    pager = paginate(q_imports.runs(workspace_id(), filters))
    return render_template("admin/imports.html", pager=pager, kinds=_kinds())


def _kinds() -> dict[str, str]:
    return {k: cls.display_name for k, cls in service.kinds().items()}


def _staging_dir(token: str) -> Path:
    return service.upload_root() / str(workspace_id()) / "staging" / token


def _stage() -> dict[str, Any]:
    stage = session.get(STAGE_KEY)
    if not stage or stage.get("ws") != workspace_id():
        flash(_("Upload the file first."), "error")
        abort(redirect(url_for("imports.upload")))
    return stage


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def upload() -> Any:
    kinds = _kinds()
    if request.method == "POST":
        kind = request.form.get("kind", "")
        files = [f for f in request.files.getlist("files") if f and f.filename]
        if kind not in kinds:
            flash(_("Choose what the file contains."), "error")
        elif not files:
            flash(_("Choose a .xlsx, .csv or .txt file to upload."), "error")
        else:
            token = secrets.token_hex(8)
            folder = _staging_dir(token)
            folder.mkdir(parents=True, exist_ok=True)
            stored = []
            for n, f in enumerate(files, start=1):
                name = service.clean_filename(f.filename)
                path = folder / f"{n}-{secure_filename(name) or 'upload'}"
                f.save(path)
                stored.append({"path": str(path), "name": name})
            try:
                service.check_upload(kind, [(Path(f["path"]), f["name"]) for f in stored])
            except HubError as exc:
                shutil.rmtree(folder, ignore_errors=True)
                flash(error_text(exc), "error")
                return render_template("admin/import_upload.html", kinds=kinds, kind=kind), 400
            session[STAGE_KEY] = {"ws": workspace_id(), "token": token, "kind": kind,
                                  "files": stored, "mapping": None}  # fmt: skip
            mapped = service.connector_for(kind).column_mapping
            step = "imports.mapping" if mapped else "imports.settings"
            return redirect(url_for(step))
    return render_template("admin/import_upload.html", kinds=kinds)


@bp.route("/mapping", methods=["GET", "POST"])
@admin_required
def mapping() -> Any:
    stage = _stage()
    try:
        headers, suggested, targets = import_preview.preview(workspace_id(), stage)
    except HubError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("imports.upload"))
    if request.method == "POST":
        chosen = {h: request.form.get(f"map_{i}", "") for i, h in enumerate(headers)}
        stage["mapping"] = {h: t for h, t in chosen.items() if t}
        session[STAGE_KEY] = stage
        try:
            import_preview.check_mapping(workspace_id(), stage)
        except HubError as exc:
            flash(error_text(exc), "error")
        else:
            return redirect(url_for("imports.settings"))
    current = stage.get("mapping") or suggested
    return render_template(
        "admin/import_mapping.html", headers=headers, current=current, targets=targets, stage=stage
    )


def _options() -> tuple[dict[str, Any], bool]:
    f = request.form
    group = f.get("group_name", "").strip() or f.get("group", "").strip()
    settings = {
        "original_source": f.get("original_source", "").strip() or None,
        "campaign": f.get("campaign", "").strip() or None,
        "original_source_policy": "all" if f.get("apply_to_existing") else "new_only",
        "group": group or None,
        "tags": [t.strip() for t in f.get("tags", "").split(",") if t.strip()],
    }
    return settings, bool(f.get("dry_run"))


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings() -> Any:
    stage = _stage()
    if request.method == "POST":
        options, dry_run = _options()
        if stage.get("mapping"):
            options["mapping"] = stage["mapping"]
        uploads = [(f["name"], Path(f["path"])) for f in stage["files"]]
        try:
            run = service.start(workspace_id(), stage["kind"], uploads, settings=options,
                                dry_run=dry_run, created_by=current_user.email)  # fmt: skip
        except QueueUnavailable:
            flash(_("The queue is unavailable; the import will start when it is back."), "error")
            return redirect(url_for("imports.index"))
        except HubError as exc:
            flash(_("The import was refused: %(e)s", e=error_text(exc)), "error")
            return redirect(url_for("imports.index"))
        finally:
            shutil.rmtree(_staging_dir(stage["token"]), ignore_errors=True)
            session.pop(STAGE_KEY, None)
        flash(_("Import #%(id)s started. Its result appears below.", id=run.id), "success")
        return redirect(url_for("imports.index"))
    groups = [g for g, _n in q_workspace.groups_with_counts(workspace_id())]
    return render_template("admin/import_settings.html", stage=stage, groups=groups, kinds=_kinds())


@bp.get("/template/<kind>")
@login_required
def template(kind: str) -> Any:
    """The .xlsx template of ``kind`` (required columns marked *), as the API's."""
    if kind not in service.kinds():
        abort(404)
    path = service.upload_root() / "templates" / f"{kind}-template.xlsx"
    service.template(kind, path)
    return _send(path, path.name)


@bp.get("/<int:import_id>/original")
@login_required
def original(import_id: int) -> Any:
    index = parsing.whole_number(request.args.get("file"), "file", default=0) or 0
    try:
        path, name = service.original_file(workspace_id(), import_id, index)
    except NotFound:
        abort(404)
    return _send(path, name)


@bp.get("/<int:import_id>/failures")
@login_required
def failures(import_id: int) -> Any:
    try:
        path = service.failure_file(workspace_id(), import_id)
    except NotFound:
        abort(404)
    return _send(path, f"failures-{import_id}{path.suffix}")


@bp.get("/<int:import_id>/failures.csv")
@login_required
def failures_csv(import_id: int) -> Any:
    """The failed rows with their reasons as streamed CSV, whatever the failure file's format."""
    try:
        header, rows = service.failure_rows(workspace_id(), import_id)
    except NotFound:
        abort(404)
    return csv_export.response(f"import-{import_id}-failures.csv", header, rows)


def _send(path: Path, name: str) -> Any:
    if not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=name)
