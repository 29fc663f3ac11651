"""The address a platform pushes a store's updates to (the webhook intake), made absolute:
``PUBLIC_URL`` (the hub's address as platforms reach it) when set, else the address the page
or API call was asked on."""

from __future__ import annotations

from flask import current_app, request, url_for

from hub.models import Connection
from hub.registry import connectors


def takes_pushes(conn: Connection) -> bool:
    """A bound store of a platform that pushes updates."""
    cls = connectors().get(conn.platform)
    return bool(conn.is_bound and cls is not None and "push" in cls.capabilities)


def push_url(conn: Connection) -> str:
    """The full push URL of the store, e.g. https://hub.example.com/webhooks/youzan/3."""
    base = str(current_app.config.get("PUBLIC_URL") or request.url_root).rstrip("/")
    path = url_for("webhooks.receive", platform=conn.platform, connection_id=conn.id)
    return base + path.removeprefix(request.script_root)
