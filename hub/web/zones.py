"""Times as the workspace reads them: every datetime a page shows goes through the ``local``
filters here (the ``dt`` macro uses them), in the signed-in workspace's zone, labelled with its
offset. Dates typed into filters are read in the same zone (``workspace_zone``)."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context
from flask_login import current_user

from hub.core import zones
from hub.core.errors import ValidationFailed


def _workspace() -> int | None:
    if not has_request_context():
        return None
    if g.get("api_workspace_id") is not None:
        return int(g.api_workspace_id)
    if current_user and current_user.is_authenticated:
        return int(current_user.workspace_id)
    return None


def workspace_zone() -> ZoneInfo:
    """The zone of this request's workspace (read once per request; the default zone when no
    one is signed in)."""
    ws = _workspace()
    cached = g.get("hub_zone") if has_request_context() else None
    if cached is not None and cached[0] == ws:
        return cached[1]
    found = zones.zone(None)
    if ws is not None:
        from hub.queries import workspace as q_workspace

        with suppress(ValidationFailed):  # a name this machine's tz database lacks: default
            found = zones.zone(q_workspace.time_zone(ws))
    if has_request_context():
        g.hub_zone = (ws, found)
    return found


def to_workspace_time(value: datetime | date | None) -> datetime | date | None:
    """An instant as the wall time of the workspace's zone (an aware datetime); anything else
    (None, a calendar date) as it is."""
    return zones.local(value, workspace_zone()) if isinstance(value, datetime) else value


def local_text(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """'2026-11-14 20:33' in the workspace's zone ('' for None)."""
    local = to_workspace_time(value)
    return "" if local is None else local.strftime(fmt)


def offset(value: datetime | date | None) -> str:
    """'UTC+08:00': the offset ``value`` is shown in, in the workspace's zone."""
    local = to_workspace_time(value)
    return zones.offset_label(local) if isinstance(local, datetime) else ""


def zone_name() -> str:
    return workspace_zone().key


def init_app(app: Flask) -> None:
    """Jinja: ``value|local`` (aware, in the zone), ``value|localtime(fmt)`` (text),
    ``value|utc_offset`` and ``time_zone_name()``."""
    app.jinja_env.filters["local"] = to_workspace_time
    app.jinja_env.filters["localtime"] = local_text
    app.jinja_env.filters["utc_offset"] = offset
    app.jinja_env.globals["time_zone_name"] = zone_name
