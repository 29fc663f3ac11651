"""Sync runs: history per store, a live progress bar (polled JSON), counts and classified errors."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from flask_login import login_required

from hub.models import Connection, SyncRun
from hub.queries import syncs as q_syncs
from hub.web.admin.common import paginate, scoped_or_404, store_filter
from hub.web.auth import workspace_id
from hub.web.i18n import N_, _

bp = Blueprint("syncs", __name__, url_prefix="/syncs")

ADVICE = {
    "configuration": N_(
        "The platform refused our credentials or permissions. Open the store, re-enter its "
        "credentials (or authorize it again on the platform), then sync again."
    ),
    "transient": N_(
        "The platform was unavailable or throttled us. The hub retries by itself; "
        "if it keeps failing, sync again later."
    ),
    "system": N_(
        "An unexpected error in the hub. Sync again; if it fails the same way, "
        "send this message to your technical contact."
    ),
}


def advice(run: SyncRun) -> str | None:
    """What the admin should do about a failed run, by its error class."""
    if run.status != "failed" and not run.error_class:
        return None
    return _(ADVICE.get(run.error_class or "system", ADVICE["system"]))


def percent(run: SyncRun) -> int | None:
    if run.status == "succeeded":
        return 100
    if not run.progress_total:
        return None
    return max(0, min(100, int(run.progress_done * 100 / run.progress_total)))


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    connection_id, picker = store_filter(ws)
    pager = paginate(q_syncs.runs(ws, q_syncs.RunFilter(connection_id)))
    return render_template(
        "admin/syncs.html",
        pager=pager,
        **picker,
        percent=percent,
    )


@bp.get("/<int:run_id>")
@login_required
def detail(run_id: int) -> Any:
    run = scoped_or_404(SyncRun, run_id)
    conn = scoped_or_404(Connection, run.connection_id)
    return render_template(
        "admin/sync_detail.html", run=run, conn=conn, advice=advice(run), percent=percent(run)
    )


@bp.get("/<int:run_id>/progress")
@login_required
def progress(run_id: int) -> Any:
    """JSON for the progress bar; the page polls it until the run is finished."""
    run = scoped_or_404(SyncRun, run_id)
    return jsonify(
        id=run.id,
        status=run.status,
        finished=run.status in SyncRun.FINISHED,
        done=run.progress_done,
        total=run.progress_total,
        percent=percent(run),
        counts=run.counts or {},
        error_class=run.error_class,
        error_message=run.error_message,
        advice=advice(run),
    )
