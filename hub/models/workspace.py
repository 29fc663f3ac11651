"""Workspaces (tenants), their users, their users' sign-in sessions and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.zones import DEFAULT_ZONE
from hub.models.base import Model
from hub.models.types import UTCDateTime, utcnow


class Workspace(Model):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    # IANA name: times are shown, filtered and bucketed by day in it; spreadsheet times
    # without an offset are read in it (hub.core.zones). Storage stays UTC.
    time_zone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_ZONE, server_default=DEFAULT_ZONE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(400))
    role: Mapped[str] = mapped_column(String(20), default="admin")  # admin | analyst
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The UI language chosen (zh_CN); None follows the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(20), nullable=True)

    ROLES = ("admin", "analyst")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserSession(Model):
    """One signed-in browser. The session cookie carries a random key whose SHA-256 is stored
    here; signing out deletes the row, so a copy of the cookie is refused from then on."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


@event.listens_for(User, "before_update")
def _end_sessions_on_credential_change(_mapper: Any, connection: Any, user: User) -> None:
    """A new password or a deactivation ends every session of the user, whatever code path
    made the change."""
    state = inspect(user)
    deactivated = state.attrs.active.history.has_changes() and not user.active
    if deactivated or state.attrs.password_hash.history.has_changes():
        connection.execute(delete(UserSession).where(UserSession.user_id == user.id))


class ApiToken(Model):
    """A Bearer token for /api/v1. Only its SHA-256 is stored. Its role bounds what it may do
    (hub.web.api_base): admin everything, analyst reads and runs analyses, read-only reads."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))
    role: Mapped[str] = mapped_column(String(20), default="admin", server_default="admin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ROLES = ("admin", "analyst", "read-only")


class SignInThrottle(Model):
    """Failed sign-ins counted per account (the e-mail typed, known or not) and per client
    address; ``locked_until`` refuses further attempts of that scope and key until then."""

    __tablename__ = "sign_in_throttles"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # account | address
    key: Mapped[str] = mapped_column(String(320))
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
