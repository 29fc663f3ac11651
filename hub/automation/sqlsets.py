"""A set of values bound as ONE parameter, whatever its size (no chunking, no parameter
limit): PostgreSQL ``column = ANY(:array)``, SQLite ``column IN (SELECT value FROM
json_each(:json))``. The rules engine hands a batch's keys and ids to SQL this way, and pairs
of ints as rows (``int_pairs``: PostgreSQL ``unnest(:a, :b)``, SQLite ``json_each`` of
``[[a, b], …]``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Integer, String, any_, func, literal, literal_column, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from hub.models.types import json_text


def among(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (all ints or all strings)."""
    kind = String() if values and isinstance(next(iter(values)), str) else Integer()
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(kind)))
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(literal(json_text(list(values)), String()))
    )
    return column.in_(listed.scalar_subquery())


def int_pairs(session: Session, pairs: Collection[tuple[int, int]], name: str = "pairs") -> Any:
    """A subquery of ``pairs`` as rows (columns ``a``, ``b``), bound as one parameter."""
    if session.get_bind().dialect.name == "postgresql":
        a, b = [p[0] for p in pairs], [p[1] for p in pairs]
        rows = func.unnest(literal(a, ARRAY(Integer())), literal(b, ARRAY(Integer())))
        return select(rows.table_valued("a", "b").render_derived()).subquery(name)
    value = literal_column("value")
    return (
        select(
            type_coerce(func.json_extract(value, "$[0]"), Integer()).label("a"),
            type_coerce(func.json_extract(value, "$[1]"), Integer()).label("b"),
        )
        .select_from(func.json_each(literal(json_text([list(p) for p in pairs]), String())))
        .subquery(name)
    )
