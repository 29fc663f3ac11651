"""How every request's input enters the app, whatever the route: ids in URLs, JSON bodies and
text arguments. Numbers and dates inside arguments are read with ``hub.services.parsing``.

- ``<int:...>`` in any route takes ASCII digits up to ``parsing.ID_MAX`` (the id columns' width):
  a larger id, or one in another script's digits, matches no route (404).
- ``request.get_json()`` parses with ``parsing.json_value`` (bounded depth and size; a deeply
  nested body is a 400, never a RecursionError), and a body that is not JSON is a 400 naming it.
- A NUL character in a query argument or form field is a 400 (PostgreSQL cannot store one).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, json, request
from werkzeug.routing import IntegerConverter, Map

from hub.services import parsing
from hub.services.customers import N_, Refused

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
RAW_BODY_PREFIX = "/webhooks/"  # the intake reads its body raw: its form is never parsed


class IdConverter(IntegerConverter):
    """The ``int`` converter of every route: an id in ASCII digits, at most ID_MAX."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", parsing.ID_MAX)
        super().__init__(map, *args, **kwargs)


class BoundedJSON:
    """The ``json_module`` of requests: bounded loads, Flask's dumps."""

    loads = staticmethod(parsing.json_value)
    dumps = staticmethod(json.dumps)


class HubRequest(Request):
    @property
    def json_module(self) -> Any:
        return BoundedJSON

    @json_module.setter
    def json_module(self, value: Any) -> None:
        """Flask hands every request the app's JSON provider: bodies keep BoundedJSON."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            raise Refused(
                N_("The request body must be JSON, sent with Content-Type: application/json."),
                field="body",
            )
        reason = str(e).split(": line ")[0]  # orjson adds the position; the reason is enough
        raise Refused(N_("The request body is not JSON we can read: %(reason)s."), field="body",
                      reason=reason)  # fmt: skip


def refuse_nul() -> None:
    """Before every request: no NUL in a query argument or (outside the intake) a form field."""
    name = parsing.has_nul(request.args)
    parses_form = request.mimetype in FORM_TYPES and not request.path.startswith(RAW_BODY_PREFIX)
    if name is None and parses_form:
        name = parsing.has_nul(request.form)
    if name is not None:
        raise Refused(N_("%(name)s holds a NUL character."), field=name, name=name)


def init_app(app: Flask) -> None:
    """Before any route is registered: the converter, the request class and the NUL check."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = HubRequest
    app.before_request(refuse_nul)
