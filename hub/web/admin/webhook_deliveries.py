"""Outbound webhooks (A1): the delivery log of rules' webhooks (status codes, attempts), a
delivery's attempts and body, redelivery, and the targets disabled by 410 Gone."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from hub.automation import delivery as outbound
from hub.core.errors import HubError
from hub.extensions import db
from hub.models import OutboxDelivery
from hub.models.outbox import OUTBOX_STATUSES
from hub.queries import outbox as q_outbox
from hub.services import parsing
from hub.web.admin.common import error_text, paginate, scoped_or_404
from hub.web.api_webhook_deliveries import attempts_of
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import _

bp = Blueprint("webhook_deliveries", __name__, url_prefix="/settings/webhook-deliveries")


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    status = request.args.get("status") if request.args.get("status") in OUTBOX_STATUSES else None
    rule = parsing.as_id(request.args.get("rule_id", ""))
    pager = paginate(q_outbox.deliveries(ws, status, rule))
    disabled = q_outbox.disabled_targets(ws)
    return render_template(
        "admin/webhook_deliveries.html",
        pager=pager,
        status=status,
        statuses=OUTBOX_STATUSES,
        rule_id=rule or "",
        disabled=disabled,
    )


@bp.get("/<int:delivery_id>")
@login_required
def detail(delivery_id: int) -> Any:
    row = scoped_or_404(OutboxDelivery, delivery_id)
    try:
        body = json.dumps(json.loads(row.body), ensure_ascii=False, indent=2)
    except ValueError:
        body = row.body
    return render_template(
        "admin/webhook_delivery_detail.html",
        d=row,
        attempts=attempts_of([row.id])[row.id],
        body=body[:20000],
    )


@bp.post("/<int:delivery_id>/redeliver")
@admin_required
def redeliver(delivery_id: int) -> Any:
    row = scoped_or_404(OutboxDelivery, delivery_id)
    try:
        done = outbound.redeliver(row.workspace_id, row.id)
    except HubError as exc:
        flash(_("Redelivery failed: %(e)s", e=error_text(exc)), "error")
    else:
        if done.status == "delivered":
            flash(_("Delivered again (HTTP %(code)s).", code=done.last_status_code), "success")
        else:
            flash(_("Redelivery failed: %(e)s", e=done.last_error or done.status), "error")
    return redirect(request.form.get("next") or url_for(".detail", delivery_id=delivery_id))


@bp.post("/targets/enable")
@admin_required
def enable_target() -> Any:
    url = request.form.get("url", "")
    if outbound.enable_target(db.session, workspace_id(), url):
        db.session.commit()
        flash(_("%(url)s is enabled again: new deliveries are sent to it.", url=url), "success")
    else:
        flash(_("%(url)s is not a disabled target.", url=url), "error")
    return redirect(url_for(".index"))
