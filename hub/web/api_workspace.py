"""The token's workspace and its settings: the time zone pages and date filters use."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from hub.core.errors import NotFound, ValidationFailed
from hub.extensions import db
from hub.models import Workspace
from hub.services import workspaces
from hub.web import api_serial as ser
from hub.web.api_base import bp, json_body, workspace_id


def _workspace(ws: Workspace) -> dict[str, Any]:
    return {
        "id": ws.id,
        "name": ws.name,
        "slug": ws.slug,
        "time_zone": ws.time_zone,
        "created_at": ser.when(ws.created_at),
    }


@bp.get("/workspace")
def workspace() -> Any:
    ws = db.session.get(Workspace, workspace_id())
    if ws is None:
        raise NotFound("workspace not found")
    return jsonify(_workspace(ws))


@bp.patch("/workspace/settings")
def workspace_settings() -> Any:
    """``{"time_zone": "Europe/London"}``: an IANA name; anything else is refused (400 naming
    ``time_zone``). Stored times do not change; the API's times keep their UTC offset."""
    data = json_body()
    if "time_zone" not in data:
        raise ValidationFailed("time_zone is required, e.g. Asia/Shanghai", field="time_zone")
    return jsonify(_workspace(workspaces.set_time_zone(workspace_id(), data["time_zone"])))
