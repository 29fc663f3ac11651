"""Sign-in: Flask-Login over server-side sessions (hub.services.sessions), CSRF on every form,
sign-in throttling in the database (hub.services.throttle), roles, safe redirects."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from hub.models import User
from hub.services import sessions, throttle, users
from hub.web.i18n import _, ngettext_

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

F = TypeVar("F", bound=Callable[..., Any])

SESSION_KEY = "hub_session"  # the key of the server-side session (hub.services.sessions)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def init_app(app: Flask) -> None:
    """Login manager, CSRF and cookie flags. Cookies are Secure (HTTPS only) unless the demo or
    the tests allow plain http; HUB_SECURE_COOKIES=true/false decides explicitly."""
    insecure_ok = bool(app.config.get("ALLOW_INSECURE_DEFAULTS") or app.config.get("TESTING"))
    secure = bool(app.config.get("SECURE_COOKIES", not insecure_ok))
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
    # The JSON API (Bearer tokens) and webhook intake (signatures) carry no browser session.
    for name in SESSIONLESS:
        if name in app.blueprints:
            csrf.exempt(app.blueprints[name])
    app.session_interface = CookieSessionsForBrowsers(
        tuple(f"{app.blueprints[n].url_prefix}/" for n in SESSIONLESS if n in app.blueprints)
    )
    app.register_blueprint(bp)


SESSIONLESS = ("api", "webhooks")


class CookieSessionsForBrowsers(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but none at all for the sessionless blueprints: a
    webhook or a Bearer-token call neither reads a session cookie nor sets one (``Vary:
    Cookie`` included), and the intake skips building a signing serializer per push."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        # Sessions open before the URL is matched, so the blueprints are known by their prefixes.
        self.prefixes = prefixes

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(self.prefixes):
            return self.null_session_class()
        return super().open_session(app, request)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The user of this cookie, only while its server-side session lives."""
    if not user_id.isdigit():
        return None
    return sessions.resume(int(user_id), session.get(SESSION_KEY), _lifetime())


def _lifetime() -> timedelta:
    return current_app.permanent_session_lifetime


def workspace_id() -> int:
    """The signed-in user's workspace: every admin query is scoped by it."""
    return int(current_user.workspace_id)


def is_admin() -> bool:
    return bool(current_user.is_authenticated and current_user.role == "admin")


def admin_required(view: F) -> F:
    """Analysts read; only admins change anything."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_admin():
            abort(403, description=_("Only an admin of this workspace can do that."))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything pointing off-site goes to the home page."""
    default = url_for("stores.index")
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _locked_message(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return ngettext_(
        "Too many failed sign-ins. Wait %(num)d minute and try again.",
        "Too many failed sign-ins. Wait %(num)d minutes and try again.",
        minutes,
    )


def _sign_in(email: str, password: str) -> tuple[str, int] | None:
    """Check the credentials under throttling; sign in and return None, or (message, status)."""
    address = request.remote_addr
    if (wait := throttle.locked_for(email, address)) is not None:
        return _locked_message(wait), 429
    user = users.authenticate_user(email, password)
    if user is None:
        throttle.record_failure(email, address)
        return _("Email or password is wrong. Check both and try again."), 401
    throttle.record_success(email)
    session[SESSION_KEY] = sessions.start(user, _lifetime())
    login_user(user)
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        refused = _sign_in(email, form.password.data or "")
        if refused is None:
            return redirect(safe_next(request.args.get("next")))
        flash(refused[0], "error")
        return render_template("auth/login.html", form=form), refused[1]
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    """Sign out: this session ends on the server, so a copy of its cookie no longer works."""
    sessions.end(session.pop(SESSION_KEY, None))
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere() -> Any:
    """Sign out every session of the signed-in user, on every device."""
    sessions.end_all(int(current_user.id))
    session.pop(SESSION_KEY, None)
    logout_user()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))
