"""Settings › Privacy requests: the shops' compliance requests (data requests, customer and
shop redactions), what the hub did, and a data request's report to download (admin)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, render_template

from hub.core.errors import NotFound
from hub.queries import privacy as q_privacy
from hub.web.admin.common import paginate
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import N_

bp = Blueprint("privacy", __name__, url_prefix="/settings/privacy")

ACTIONS = {
    "data_request": N_("Data request"),
    "customer_redact": N_("Erase a customer"),
    "shop_redact": N_("Erase a store's data"),
}


@bp.get("")
@admin_required
def index() -> Any:
    pager = paginate(q_privacy.requests(workspace_id()))
    return render_template("admin/privacy_requests.html", pager=pager, actions=ACTIONS)


@bp.get("/<int:request_id>.json")
@admin_required
def download(request_id: int) -> Any:
    """The request as JSON (with a data request's report), as a file to keep or send on."""
    try:
        found = q_privacy.get(workspace_id(), request_id)
    except NotFound:
        abort(404)
    from hub.web import api_serial as ser

    body = json.dumps({**ser.privacy_request(found), "report": found.report}, indent=2)
    name = f"privacy-request-{found.id}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
