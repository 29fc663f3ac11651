"""Inserts and updates of many rows, one statement each: the rows go as one array per column
and the statement unnests them. A column holding one value throughout (the workspace, the
batch's timestamp) goes as one value instead."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from hub.core.postgres import behind, side
from hub.core.postgres.columns import NEW_IDS_SQL, converter, cursor, quoted, sql_type
from hub.core.postgres.copy import copy_rows, copy_types


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT ``rows`` (tuples in the order of ``columns``) in one statement."""
    if rows:
        _insert_columns(session, table, tuple(columns), list(zip(*rows, strict=True)))


def insert_returning_ids(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> list[int]:
    """Insert ``rows``; their new ids in the same order. The ids are drawn from the table's
    sequence first (one statement), then the rows go in with them (one more)."""
    if not rows:
        return []
    ids = new_ids(session, table, len(rows))
    cols: list[Sequence[Any]] = [ids, *zip(*rows, strict=True)]
    _insert_columns(session, table, ("id", *columns), cols)
    return ids


def new_ids(session: Session, table: Table, n: int) -> list[int]:
    """``n`` ids from the sequence of ``table``'s id column (as its default would draw them):
    on the batch's side connection when it has one (``hub.core.postgres.side``), so that the
    draw does not wait for the write-behind thread's use of the session's connection."""
    if (reader := side.current()) is not None:
        return reader.new_ids(table.name, n)
    with behind.using(None):  # a sequence is outside the transaction: no write to wait for
        cur = cursor(session)
        try:
            cur.execute(NEW_IDS_SQL, (quoted(table.name), n))
            return [id_ for (id_,) in cur.fetchall()]
        finally:
            cur.close()


def update_many(
    session: Session, table: Table, rows: list[dict[str, Any]], *, add: Sequence[str] = ()
) -> None:
    """UPDATE rows by id in one statement; every row carries the same keys, ``id`` among them.
    The columns in ``add`` are increased by the row's value rather than set to it. A row
    given twice (by id) takes its last values, as one UPDATE per row would leave it; with
    ``add`` each id must be given once."""
    if not rows:
        return
    keys = tuple(k for k in rows[0] if k != "id")
    ids = [row["id"] for row in rows]
    if len(set(ids)) != len(ids):
        if add:
            raise ValueError(f"{table.name}: an id given twice to an adding update")
        rows = list({row["id"]: row for row in rows}.values())
        ids = [row["id"] for row in rows]
    cols: list[Sequence[Any]] = [ids, *([row[k] for row in rows] for k in keys)]
    same, params = _params(session, table, ("id", *keys), cols)
    sql = _update_sql(table, ("id", *keys), same, tuple(add))
    _run(session, table, sql, params)


def _insert_columns(
    session: Session, table: Table, columns: tuple[str, ...], cols: list[Sequence[Any]]
) -> None:
    """One binary COPY (``hub.core.postgres.copy``) when every column's type allows it,
    else one unnesting INSERT."""
    types = copy_types(table, columns)
    if types is None:
        same, params = _params(session, table, columns, cols)
        _run(session, table, _insert_sql(table, columns, same), params)
        return
    dialect = session.get_bind().dialect
    converted = []
    for name, col in zip(columns, cols, strict=True):
        convert = converter(table, name, dialect)
        converted.append(col if convert is None else convert(col))
    rows = zip(*converted, strict=True)
    behind.write(session, table.name, lambda cur: copy_rows(cur, table, columns, types, rows))


def _params(
    session: Session, table: Table, columns: tuple[str, ...], cols: list[Sequence[Any]]
) -> tuple[tuple[int, ...], list[Any]]:
    """Which columns hold one value throughout, and the parameters as the statement takes
    them (see ``_sources``): those columns' one value each, then the other columns whole,
    converted for the driver."""
    dialect = session.get_bind().dialect
    n = len(cols[0])
    same = []
    shared: list[Any] = []
    arrays: list[Any] = []
    for i, (name, col) in enumerate(zip(columns, cols, strict=True)):
        convert = converter(table, name, dialect)
        # ``is`` first: equality of Decimals and aware datetimes is slow, and a batch's shared
        # value is one object. The first column (the id of an update) is never shared, so
        # there is always an array to unnest.
        if i and (first := col[0]) is col[-1] and col.count(first) == n:
            same.append(i)
            shared.append(convert([first])[0] if convert else first)
        else:
            arrays.append(list(convert(col) if convert else col))
    return tuple(same), shared + arrays


def _run(session: Session, table: Table, sql: str, params: list[Any]) -> None:
    behind.write(session, table.name, lambda cur: cur.execute(sql, params))


def _sources(
    table: Table, columns: tuple[str, ...], same: tuple[int, ...]
) -> tuple[list[str], str]:
    """Each column's value as an SQL expression (a shared parameter or the unnested array's
    column) and the ``unnest(...) AS u(...)`` of the others: the statement's parameters are
    the shared values first, then the arrays, each in column order."""
    exprs, arrays, names = [], [], []
    for i, name in enumerate(columns):
        type_ = sql_type(table, name)
        if i in same:
            exprs.append(f"%s::{type_}")
        else:
            exprs.append(f"u.{quoted(name)}")
            arrays.append(f"%b::{type_}[]")
            names.append(quoted(name))
    return exprs, f"unnest({', '.join(arrays)}) AS u({', '.join(names)})"


@lru_cache(maxsize=512)
def _insert_sql(table: Table, columns: tuple[str, ...], same: tuple[int, ...]) -> str:
    exprs, unnest = _sources(table, columns, same)
    return (
        f"INSERT INTO {quoted(table.name)} ({', '.join(map(quoted, columns))}) "
        f"SELECT {', '.join(exprs)} FROM {unnest}"
    )


@lru_cache(maxsize=512)
def _update_sql(
    table: Table, columns: tuple[str, ...], same: tuple[int, ...], add: tuple[str, ...]
) -> str:
    exprs, unnest = _sources(table, columns, same)
    t = quoted(table.name)
    sets = ", ".join(
        f"{quoted(name)} = " + (f"{t}.{quoted(name)} + {expr}" if name in add else expr)
        for name, expr in zip(columns[1:], exprs[1:], strict=True)
    )
    return f"UPDATE {t} SET {sets} FROM {unnest} WHERE {t}.id = u.id"
