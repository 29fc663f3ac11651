"""The /api/v1 blueprint, Bearer-token auth and JSON errors. Route modules attach to ``bp``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, default_exceptions

from hub import registry
from hub.core.errors import (
    AlreadyBound,
    AuthError,
    ConfigError,
    Conflict,
    HubError,
    NotFound,
    QueueUnavailable,
    TransientError,
    ValidationFailed,
)
from hub.services import queries, tokens

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

# Typed errors -> (HTTP status, error code), most specific first.
ERROR_MAP: list[tuple[type[BaseException], int, str]] = [
    (NotFound, 404, "not_found"),
    (ValidationFailed, 400, "validation_failed"),
    (AlreadyBound, 409, "already_bound"),
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
    return queries.paging(request.args.get("page"), request.args.get("per_page"))


def paged(result: queries.Paged, serialise: Callable[[Any], dict]) -> Any:
    return jsonify(
        items=[serialise(item) for item in result.items],
        page=result.page,
        per_page=result.per_page,
        total=result.total,
    )


def json_body() -> dict[str, Any]:
    """The request's JSON object, or ValidationFailed."""
    data = request.get_json(silent=True)
    if data is None and request.content_length:
        raise ValidationFailed("the request body must be JSON", field="body")
    if data is not None and not isinstance(data, dict):
        raise ValidationFailed("the request body must be a JSON object", field="body")
    return data or {}


@bp.before_request
def _authenticate() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = tokens.authenticate(value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return error_response(
            401, "unauthorized", "a valid API token is required: Authorization: Bearer <token>"
        )
    g.api_token = token
    g.api_workspace_id = token.workspace_id
    return None


def _hub_error(exc: HubError) -> Any:
    for cls, status, code in ERROR_MAP:
        if isinstance(exc, cls):
            extra = {k: getattr(exc, k, None) for k in ("field", "run_ids")}
            return error_response(status, code, str(exc), **{k: v for k, v in extra.items() if v})
    log.exception("API error", exc_info=exc)
    return error_response(500, "internal_error", "internal error")


def _http_error(exc: HTTPException) -> Any:
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)


def _unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled API error", exc_info=exc)
    return error_response(500, "internal_error", "internal error")


def _marshmallow(exc: ValidationError) -> Any:
    field = next(iter(exc.messages), None) if isinstance(exc.messages, dict) else None
    return error_response(400, "validation_failed", str(exc.messages), field=field)


def _unknown_platform(exc: registry.UnknownPlatform) -> Any:
    return error_response(400, "validation_failed", f"unknown platform {exc.args[0]!r}")


bp.register_error_handler(HubError, _hub_error)
bp.register_error_handler(ValidationError, _marshmallow)
bp.register_error_handler(registry.UnknownPlatform, _unknown_platform)
bp.register_error_handler(Exception, _unexpected)
for _code in default_exceptions:
    # Code-specific, so an app-wide HTML page for the same code never answers an API call.
    bp.register_error_handler(_code, _http_error)


def install_app_error_handlers(app: Flask) -> None:
    """Errors raised before a route matched (unknown path, wrong method, body too large) are
    JSON under /api/v1; elsewhere the handler registered before (HTML pages) still answers."""
    for code in default_exceptions:
        previous = app.error_handler_spec[None][code].get(default_exceptions[code])
        app.register_error_handler(code, _api_aware(previous))


def _api_aware(previous: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def handler(exc: HTTPException) -> Any:
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            return _http_error(exc)
        return previous(exc) if previous else exc

    return handler
