"""Sign-in sessions kept in the database: the cookie carries a random key, the server keeps
its SHA-256. Signing out deletes the row, so a copied cookie stops working at once; a user can
end all of their sessions ("sign out everywhere"), and a new password or a deactivation does
it for them (hub.models.workspace)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from hub.extensions import db
from hub.models import User, UserSession, utcnow


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(user: User, lifetime: timedelta) -> str:
    """A new session of ``user``; returns the key for the cookie. Sessions older than
    ``lifetime`` (anyone's) are deleted on the way."""
    key = secrets.token_urlsafe(32)
    db.session.execute(delete(UserSession).where(UserSession.created_at < utcnow() - lifetime))
    db.session.add(UserSession(user_id=user.id, key_hash=_digest(key)))
    db.session.commit()
    return key


def resume(user_id: int, key: str | None, lifetime: timedelta) -> User | None:
    """The active user of the live session ``key``, if it belongs to ``user_id``."""
    if not key:
        return None
    return db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.key_hash == _digest(key),
            UserSession.user_id == user_id,
            UserSession.created_at >= utcnow() - lifetime,
            User.active.is_(True),
        )
    )


def end(key: str | None) -> None:
    """End one session (signing out)."""
    if key:
        db.session.execute(delete(UserSession).where(UserSession.key_hash == _digest(key)))
        db.session.commit()


def end_all(user_id: int) -> int:
    """End every session of a user ("sign out everywhere"); returns how many there were."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    db.session.commit()
    return int(result.rowcount or 0)
