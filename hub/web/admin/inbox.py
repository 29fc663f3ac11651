"""The webhook inbox: recent deliveries per store, their status and error, and replay."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from hub.core.errors import HubError
from hub.models import Connection, WebhookDelivery
from hub.queries import syncs as q_syncs
from hub.web.admin.common import paginate, scoped_or_404, store_filter
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import _
from hub.web.push_urls import push_url, takes_pushes

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

STATUSES = ("received", "processed", "ignored", "failed")


def _replay(delivery: WebhookDelivery) -> None:
    """Queue the stored delivery for processing again (the intake's job; idempotent, X1)."""
    from hub.inbox import processing

    processing.replay(delivery.workspace_id, delivery.id)


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    connection_id, picker = store_filter(ws)
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    pager = paginate(q_syncs.deliveries(ws, q_syncs.RunFilter(connection_id, status)))
    store = scoped_or_404(Connection, connection_id) if connection_id else None
    return render_template(
        "admin/inbox.html",
        pager=pager,
        **picker,
        status=status,
        statuses=STATUSES,
        push_url=push_url(store) if store is not None and takes_pushes(store) else None,
    )


@bp.get("/<int:delivery_id>")
@login_required
def detail(delivery_id: int) -> Any:
    delivery = scoped_or_404(WebhookDelivery, delivery_id)
    body = delivery.body.decode("utf-8", errors="replace") if delivery.body else ""
    return render_template("admin/inbox_detail.html", d=delivery, body=body[:20000])


@bp.post("/<int:delivery_id>/replay")
@admin_required
def replay(delivery_id: int) -> Any:
    delivery = scoped_or_404(WebhookDelivery, delivery_id)
    try:
        _replay(delivery)
    except HubError as exc:
        flash(_("Replay could not be queued: %(e)s", e=str(exc)), "error")
    else:
        flash(_("Delivery %(id)s queued for processing again.", id=delivery.delivery_id), "success")
    return redirect(url_for("inbox.index", store=delivery.connection_id))
