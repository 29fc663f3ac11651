"""GET /privacy-requests and /privacy-requests/<id>: the shops' privacy requests (admin)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from hub.queries import privacy as q_privacy
from hub.web import api_serial as ser
from hub.web.api_base import allow, bp, paged, workspace_id


@bp.get("/privacy-requests")
@allow("admin")
def privacy_requests() -> Any:
    return paged(q_privacy.requests(workspace_id()), ser.privacy_request)


@bp.get("/privacy-requests/<int:request_id>")
@allow("admin")
def privacy_request(request_id: int) -> Any:
    found = q_privacy.get(workspace_id(), request_id)
    return jsonify({**ser.privacy_request(found), "report": found.report})
