"""The /api/v1 blueprint, Bearer-token auth, token roles and JSON errors. Route modules attach
to ``bp``.

What a token may do is decided here, once, for every route: reads (GET, HEAD, OPTIONS) need a
read-only token or better, anything else needs an admin token unless the route declares less
with ``@allow("analyst")`` (an endpoint that runs an analysis, a report or an export and changes
no data or settings). A new write endpoint is therefore admin-only until it says otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import Select
from werkzeug.exceptions import HTTPException, default_exceptions

from hub import registry
from hub.core.errors import (
    AlreadyBound,
    AuthError,
    ConfigError,
    Conflict,
    HubError,
    MigrationRunning,
    NotFound,
    QueueUnavailable,
    StoreApiNotApi,
    StoreApiTimeout,
    StoreApiUnreachable,
    TransientError,
    ValidationFailed,
)
from hub.models import ApiToken
from hub.queries.paging import page_of
from hub.services import parsing, tokens
from hub.web.i18n import _, error_text

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RANK = {role: rank for rank, role in enumerate(reversed(ApiToken.ROLES))}  # read-only lowest
F = TypeVar("F", bound=Callable[..., Any])

# Typed errors -> (HTTP status, error code), most specific first.
ERROR_MAP: list[tuple[type[BaseException], int, str]] = [
    (StoreApiTimeout, 504, "platform_timeout"),
    (StoreApiUnreachable, 502, "platform_unreachable"),
    (StoreApiNotApi, 502, "platform_bad_answer"),
    (NotFound, 404, "not_found"),
    (ValidationFailed, 400, "validation_failed"),
    (AlreadyBound, 409, "already_bound"),
    (MigrationRunning, 409, "migration_running"),
    (Conflict, 409, "conflict"),
    (AuthError, 400, "credentials_rejected"),
    (ConfigError, 400, "configuration"),
    (TransientError, 503, "platform_unavailable"),
    (QueueUnavailable, 503, "queue_unavailable"),
]


def error_response(status: int, code: str, message: str, **extra: Any):
    """The one error shape: ``{"error": {"code", "message", ...}}``."""
    body = {"error": {"code": code, "message": message, **extra}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def workspace_id() -> int:
    """The workspace of the token presented with this request."""
    return g.api_workspace_id


def page_args() -> tuple[int, int]:
    return parsing.paging(request.args.get("page"), request.args.get("per_page"))


def paged(
    stmt: Select[Any],
    serialise: Callable[..., dict],
    with_page: Callable[[list[Any]], dict[Any, Any]] | None = None,
) -> Any:
    """The page of ``stmt`` that ``?page=&per_page=`` ask for, as JSON. ``with_page`` reads
    more for the page's items at once (by item id), handed to ``serialise`` as its second
    argument."""
    page, per_page = page_args()
    result = page_of(stmt, page, per_page)
    if with_page is None:
        items = [serialise(item) for item in result.items]
    else:
        more = with_page(list(result.items))
        items = [serialise(item, more.get(item.id)) for item in result.items]
    return jsonify(
        items=items,
        page=page,
        per_page=per_page,
        total=result.total,
    )


def json_body() -> dict[str, Any]:
    """The request's JSON object ({} for no body), or ValidationFailed (see hub.web.inputs)."""
    if not request.get_data(cache=True):
        return {}
    data = request.get_json()
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request body must be a JSON object."), field="body")
    return data


@bp.before_request
def _authenticate() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _space, value = header.partition(" ")
    token = tokens.authenticate(value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return error_response(
            401,
            "unauthorized",
            _("A valid API token is required: send the header Authorization: Bearer <token>."),
        )
    g.api_token = token
    g.api_workspace_id = token.workspace_id
    needed = required_role(current_app.view_functions.get(request.endpoint or ""), request.method)
    if RANK[token.role] < RANK[needed]:
        return error_response(
            403,
            "forbidden",
            _(
                "This token has the role %(role)s; %(method)s %(path)s needs a token with the "
                "role %(needed)s (or higher).",
                role=_(token.role),
                method=request.method,
                path=request.path,
                needed=_(needed),
            ),
        )
    return None


def allow(role: str) -> Callable[[F], F]:
    """Declare, on a route, the least token role that may call it (see the module's doc)."""
    if role not in RANK:
        raise ValueError(f"unknown token role {role!r}; one of {', '.join(ApiToken.ROLES)}")

    def mark(view: F) -> F:
        view.api_role = role  # type: ignore[attr-defined]
        return view

    return mark


def required_role(view: Callable[..., Any] | None, method: str) -> str:
    """The least token role a request needs: the route's declaration, else read-only for
    reads and admin for everything else. A read-only token never gets past a read."""
    declared: str | None = getattr(view, "api_role", None)
    if method in READ_METHODS:
        return declared or "read-only"
    if declared is None:
        return "admin"
    return declared if RANK[declared] >= RANK["analyst"] else "analyst"


def hub_error(exc: HubError) -> Any:
    for cls, status, code in ERROR_MAP:
        if isinstance(exc, cls):
            extra = {k: getattr(exc, k, None) for k in ("field", "run_ids", "import_id")}
            return error_response(
                status, code, error_text(exc), **{k: v for k, v in extra.items() if v}
            )
    log.exception("API error", exc_info=exc)
    return error_response(500, "internal_error", _("internal error"))


def http_error(exc: HTTPException) -> Any:
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)


def _unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return http_error(exc)
    log.exception("unhandled API error", exc_info=exc)
    return error_response(500, "internal_error", _("internal error"))


def _marshmallow(exc: ValidationError) -> Any:
    field = next(iter(exc.messages), None) if isinstance(exc.messages, dict) else None
    return error_response(400, "validation_failed", str(exc.messages), field=field)


def _unknown_platform(exc: registry.UnknownPlatform) -> Any:
    return error_response(400, "validation_failed", f"unknown platform {exc.args[0]!r}")


bp.register_error_handler(HubError, hub_error)
bp.register_error_handler(ValidationError, _marshmallow)
bp.register_error_handler(registry.UnknownPlatform, _unknown_platform)
bp.register_error_handler(Exception, _unexpected)
for _code in default_exceptions:
    # Code-specific, so an app-wide HTML page for the same code never answers an API call.
    bp.register_error_handler(_code, http_error)
