"""API tokens: shown once, stored as SHA-256 with a short prefix to recognise them, each with
a role (admin, analyst, read-only; enforced in hub.web.api_base)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from hub.core.errors import NotFound, ValidationFailed
from hub.extensions import db
from hub.models import ApiToken, utcnow

TOKEN_PREFIX = "trb_"  # noqa: S105  (a marker, not a secret)
PREFIX_LENGTH = 12
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_token(
    workspace_id: int, name: str, user_id: int | None = None, role: str = "admin"
) -> tuple[ApiToken, str]:
    """A new token; the plaintext is returned once and never stored. Admin is the default
    role, as every token was an admin before tokens had roles."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Token name: enter a name", field="name")
    if role not in ApiToken.ROLES:
        raise ValidationFailed(f"Role: choose one of {', '.join(ApiToken.ROLES)}", field="role")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        workspace_id=workspace_id,
        user_id=user_id,
        name=name[:200],
        token_hash=_digest(plaintext),
        prefix=plaintext[:PREFIX_LENGTH],
        role=role,
    )
    db.session.add(token)
    db.session.commit()
    return token, plaintext


def authenticate(plaintext: str | None) -> ApiToken | None:
    """The live token with this value, else None.

    The lookup is by SHA-256 of the presented value, so no comparison leaks how much of a
    stored secret matched.
    """
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plaintext)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token


def list_tokens(workspace_id: int) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.workspace_id == workspace_id).order_by(ApiToken.id)
        )
    )


def revoke(workspace_id: int, token_id: int) -> ApiToken:
    """Revoke a token of this workspace; it stops working at once."""
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.workspace_id == workspace_id)
    )
    if token is None:
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token
