"""The demo workspace, its admin login and its sandbox stores."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from hub.demo.sandboxes import RunningSandbox
from hub.extensions import db
from hub.models import Connection, Workspace

WORKSPACE_SLUG = "demo"
WORKSPACE_NAME = "Demo Shop"
ADMIN_EMAIL = "admin@demo.local"


def demo_workspace() -> Workspace:
    """The "demo" workspace, created on the first run."""
    from hub.services.users import create_workspace, get_workspace

    return get_workspace(WORKSPACE_SLUG) or create_workspace(WORKSPACE_NAME, WORKSPACE_SLUG)


def admin_login(ws: Workspace) -> tuple[str, str]:
    """admin@demo.local with a freshly generated password (printed; reset on every run)."""
    from hub.services.users import create_user, find_user

    password = secrets.token_urlsafe(12)
    user = find_user(ADMIN_EMAIL)
    if user is None:
        create_user(ADMIN_EMAIL, password, ws, "admin")
    else:
        user.password_hash = generate_password_hash(password)
    db.session.commit()
    return ADMIN_EMAIL, password


def bind_sandbox(ws: Workspace, sandbox: RunningSandbox, display_name: str) -> Connection:
    """Bind the sandbox store; on a re-run, point the existing binding at the new port."""
    from hub.services import connections

    settings: dict[str, Any] = sandbox.bind_config()
    existing = db.session.scalar(
        select(Connection).where(
            Connection.workspace_id == ws.id,
            Connection.platform == sandbox.platform,
            Connection.bound_key.is_not(None),
        )
    )
    if existing is not None:
        connections.update_credentials(ws.id, existing.id, settings)
        conn = existing
    else:
        conn = connections.bind(ws.id, sandbox.platform, settings, name=f"{display_name} (demo)")
    db.session.commit()
    return conn
