"""Helpers shared by the admin views: scoped lookups, paging, form parsing."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort, request
from sqlalchemy import Select

from hub.core.errors import HubError, NotFound
from hub.queries.paging import in_workspace, page_of
from hub.services import parsing
from hub.web.auth import workspace_id
from hub.web.i18n import _

PER_PAGE = 25
M = TypeVar("M")


def scoped_or_404(model: type[M], object_id: int) -> M:
    """The object if it belongs to the current workspace; 404 otherwise (never 403: no leak)."""
    try:
        return in_workspace(model, workspace_id(), object_id, "")
    except NotFound:
        abort(404)


def paginate(stmt: Select[Any], per_page: int = PER_PAGE) -> Any:
    """The page of ``stmt`` that the ``page`` query argument asks for."""
    return page_of(stmt, parsing.page_number(request.args.get("page"), per_page), per_page)


def form_id(name: str) -> int | None:
    """The id chosen or typed in form field ``name``; None when blank or no id (the view then
    asks for one)."""
    return parsing.as_id(request.form.get(name, ""))


def error_text(exc: HubError) -> str:
    """A service error for the user: translated when the service marked its message."""
    message, params = getattr(exc, "message", None), getattr(exc, "params", None)
    if isinstance(message, str) and isinstance(params, dict):
        if isinstance(params.get("label"), str):  # a field's label: marked for translation too
            params = {**params, "label": _(params["label"])}
        return _(message, **params)
    return str(exc)


def store_filter(ws: int) -> tuple[int | None, dict[str, Any]]:
    """The ``?store=`` filter of a per-store list: 404 for another workspace's store, and the
    template context of the store picker."""
    from hub.models import Connection
    from hub.queries import workspace

    connection_id = parsing.record_id(request.args.get("store"), "store")
    if connection_id:
        scoped_or_404(Connection, connection_id)
    return connection_id, {
        "names": workspace.connection_names(ws),
        "stores": workspace.bound_connections(ws),
        "store_id": connection_id,
    }
