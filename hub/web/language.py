"""``POST /language``: the language selector of the top bar and of the sign-in page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session
from flask_login import current_user

from hub.services import users
from hub.web.auth import safe_next
from hub.web.i18n import SESSION_LOCALE, _, languages, signed_in

bp = Blueprint("language", __name__)


@bp.post("/language")
def change() -> Any:
    """Set the language (field ``locale``): on the signed-in user, that user only, else in
    this browser's session (the sign-in page). Empty follows the browser's Accept-Language."""
    code = (request.form.get("locale") or "").strip()
    if code and code not in languages():
        flash(_("Unknown language “%(code)s”. Pick one from the list.", code=code), "error")
        return redirect(_back())
    if signed_in():
        users.set_locale(int(current_user.id), code or None)
        session.pop(SESSION_LOCALE, None)
    else:
        session[SESSION_LOCALE] = code or None
    return redirect(_back())


def _back() -> str:
    """The page the selector was on (a local path only), else the home page."""
    target = request.form.get("next")
    if not target and request.referrer:
        parts = urlsplit(request.referrer)
        if parts.netloc == request.host:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(target)
