"""One way to page a SELECT, for the pages and the API alike."""

from __future__ import annotations

from typing import Any, TypeVar

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from hub.core.errors import NotFound
from hub.extensions import db

M = TypeVar("M")


def page_of(stmt: Select[Any], page: int, per_page: int) -> Pagination:
    """Page ``page`` (from 1) of ``stmt``; a page past the end is empty, never an error."""
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


def in_workspace(model: type[M], workspace_id: int, object_id: int, noun: str) -> M:
    """Object ``object_id`` if it belongs to the workspace; NotFound ("<noun> <id> not found")
    otherwise, whether it is missing or another workspace's (no leak)."""
    obj = db.session.get(model, object_id)
    if obj is None or obj.workspace_id != workspace_id:  # type: ignore[attr-defined]
        raise NotFound(f"{noun} {object_id} not found")
    return obj


def text_arg(args: Any, name: str) -> str | None:
    """A query argument stripped, None when absent or blank."""
    return (args.get(name) or "").strip() or None


def source_spellings(value: str) -> list[str]:
    """What a ``source`` filter matches, lowercased: the value and its source's key (22.5):
    "Youzan", "YOUZAN" and "有赞" all find ``youzan``."""
    from hub.core.sources import key

    return sorted({value.lower(), (key(value) or value).lower()})


def contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (``%``, ``_`` and ``\\`` taken literally)."""
    return f"%{escape_like(text)}%"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
