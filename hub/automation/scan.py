"""``unindexed``: a column SQLite reads without an index, for the queries that read most of a
table (segments)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal


class unindexed(ColumnElement[Any]):  # noqa: N801 (reads as a function in the SQL it builds)
    """A column SQLite must not use an index for (``+column``): a segment reads most of a
    table, and a scan of it in storage order beats following an index to every row (a fifth
    of the time over 333,000 orders, bench/segments.py). Other databases plan with their
    statistics and get the column as it is."""

    # the column is the element's whole state: its cache key, so a statement using it is
    # compiled once and reused (rules compile one per batch otherwise)
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]
    inherit_cache = True

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type


@compiles(unindexed)
def _plain(element: unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(unindexed, "sqlite")
def _plus(element: unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)
