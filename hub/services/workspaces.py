"""A workspace's settings: its time zone (hub.core.zones)."""

from __future__ import annotations

from hub.core import zones
from hub.core.errors import NotFound, ValidationFailed
from hub.extensions import db
from hub.models import Workspace


def set_time_zone(workspace_id: int, name: str | None) -> Workspace:
    """Give the workspace the IANA zone ``name``; ValidationFailed (field ``time_zone``) when
    it is no zone name. Stored times do not change: they are UTC and only shown in the zone."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(
            "time_zone: required, an IANA name such as Asia/Shanghai", field=zones.FIELD
        )
    checked = zones.valid_name(name)
    ws = db.session.get(Workspace, workspace_id)
    if ws is None:
        raise NotFound(f"workspace {workspace_id} does not exist")
    ws.time_zone = checked
    db.session.commit()
    return ws
