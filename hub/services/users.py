"""Workspaces and their users; passwords hashed with werkzeug.security."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from hub.core import zones
from hub.core.errors import Conflict, ValidationFailed
from hub.extensions import db
from hub.models import User, Workspace

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def create_workspace(name: str, slug: str, time_zone: str | None = None) -> Workspace:
    """A new tenant; the slug is lower-case letters, digits and dashes, unique; ``time_zone`` an
    IANA name (default Asia/Shanghai)."""
    name, slug = (name or "").strip(), (slug or "").strip().lower()
    if not name:
        raise ValidationFailed("Workspace name: enter a name", field="name")
    if not SLUG_RE.match(slug):
        raise ValidationFailed(
            "Workspace slug: use lower-case letters, digits and dashes, at most 100",
            field="slug",
        )
    if db.session.scalar(select(Workspace.id).where(Workspace.slug == slug)):
        raise Conflict(f"a workspace with slug {slug!r} already exists")
    ws = Workspace(name=name[:200], slug=slug)
    if time_zone is not None:
        ws.time_zone = zones.valid_name(time_zone)
    db.session.add(ws)
    db.session.commit()
    return ws


def get_workspace(slug: str) -> Workspace | None:
    return db.session.scalar(select(Workspace).where(Workspace.slug == slug))


def create_user(email: str, password: str, workspace: Workspace, role: str = "admin") -> User:
    """A user of ``workspace``; the e-mail is unique across the hub."""
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email):
        raise ValidationFailed(f"{email!r} is not an e-mail address", field="email")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed(
            f"Password: use at least {MIN_PASSWORD} characters", field="password"
        )
    if role not in User.ROLES:
        raise ValidationFailed(f"Role: choose one of {', '.join(User.ROLES)}", field="role")
    if find_user(email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    user = User(
        workspace_id=workspace.id,
        email=email,
        password_hash=generate_password_hash(password),
        role=role,
    )
    db.session.add(user)
    db.session.commit()
    return user


def find_user(email: str) -> User | None:
    email = (email or "").strip().lower()
    return db.session.scalar(select(User).where(func.lower(User.email) == email))


def authenticate_user(email: str, password: str) -> User | None:
    """The active user with these credentials, else None: the one sign-in check (web and CLI).

    Every attempt costs one password hash: an unknown e-mail is checked against a dummy hash
    of the same scheme, and an inactive user's password is still checked, so the answer's
    timing does not tell which e-mails exist.
    """
    user = find_user(email)
    stored = user.password_hash if user is not None else _dummy_hash()
    matches = check_password_hash(stored, password or "")
    if user is None or not matches or not password or not user.active:
        return None
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def set_locale(user_id: int, locale: str | None) -> None:
    """The user's UI language (``zh_CN``), or None to follow the browser's Accept-Language."""
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    user.locale = locale
    db.session.commit()
