"""The answers of last resort, for errors no view or blueprint answered itself (an unknown path,
a wrong method, a body too large, a hub error raised outside the API, an unexpected exception):
under /api and /webhooks ``{"error": {"code", "message"}}``, never an HTML page; everywhere else
the HTML error page. A hub error keeps its meaning everywhere (ValidationFailed is a 400,
NotFound a 404), so bad input never ends as a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import default_exceptions

from hub.core.errors import HubError
from hub.web.api_base import ERROR_MAP, http_error, hub_error

log = logging.getLogger(__name__)
JSON_PREFIXES = ("/api", "/webhooks")


def wants_json() -> bool:
    """Whether this request's path belongs to a machine's part of the app."""
    path = request.path
    return any(path == prefix or path.startswith(prefix + "/") for prefix in JSON_PREFIXES)


def install(app: Flask) -> None:
    """Register last, after the HTML pages' handlers, which stay in charge outside JSON_PREFIXES."""
    for code in default_exceptions:
        previous = app.error_handler_spec[None][code].get(default_exceptions[code])
        app.register_error_handler(code, _json_or(previous))
    app.register_error_handler(HubError, _hub_error)


def _json_or(previous: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def handler(exc: Any) -> Any:
        if wants_json():
            return http_error(exc)
        return previous(exc) if previous else exc

    return handler


def _hub_error(exc: HubError) -> Any:
    if wants_json():
        return hub_error(exc)
    from hub.web.admin import error_page
    from hub.web.admin.common import error_text

    status = next((status for cls, status, _code in ERROR_MAP if isinstance(exc, cls)), 500)
    if status >= 500:
        log.exception("hub error in a page", exc_info=exc)
        return error_page(status)
    return error_page(status, error_text(exc))
