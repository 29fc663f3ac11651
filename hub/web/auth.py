"""Sign-in: Flask-Login sessions, CSRF on every form, login throttling, roles, safe redirects."""

from __future__ import annotations

import logging
from collections.abc import Callable
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
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from redis.exceptions import RedisError
from sqlalchemy import func, select
from werkzeug.security import check_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from hub.extensions import db, redis_connection
from hub.models import User
from hub.web.i18n import _

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

F = TypeVar("F", bound=Callable[..., Any])

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60


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
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


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


def _throttle_keys(email: str) -> list[str]:
    return [f"hub:login:fail:email:{email}", f"hub:login:fail:ip:{request.remote_addr}"]


# The throttle's counters live in Redis. Redis down must not keep people out (issue 20): the
# sign-in goes on without the throttle, and the outage is logged.


def _locked(email: str) -> bool:
    try:
        conn = redis_connection(current_app)
        return any(int(conn.get(k) or 0) >= MAX_FAILURES for k in _throttle_keys(email))
    except RedisError as exc:
        log.warning("login throttle unavailable (Redis: %s); sign-in goes on without it", exc)
        return False


def _record_failure(email: str) -> None:
    try:
        conn = redis_connection(current_app)
        for key in _throttle_keys(email):
            pipe = conn.pipeline()
            pipe.incr(key)
            pipe.expire(key, LOCK_SECONDS)
            pipe.execute()
    except RedisError as exc:
        log.warning("login throttle could not count a failed sign-in (Redis: %s)", exc)


def _clear_failures(email: str) -> None:
    try:
        redis_connection(current_app).delete(*_throttle_keys(email))
    except RedisError as exc:
        log.warning("login throttle could not clear its counters (Redis: %s)", exc)


def check_password(user: User, password: str) -> bool:
    """Delegate to the users service when present (one hashing scheme for CLI and web)."""
    try:
        from hub.services import users as users_service
    except ImportError:
        return check_password_hash(user.password_hash, password)
    return bool(users_service.check_password(user, password))


def _authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not user.active or not check_password(user, password):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        if _locked(email):
            flash(_("Too many failed sign-ins. Wait 15 minutes and try again."), "error")
            status = 429
        elif (user := _authenticate(email, form.password.data or "")) is None:
            _record_failure(email)
            flash(_("Email or password is wrong. Check both and try again."), "error")
            status = 401
        else:
            _clear_failures(email)
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
