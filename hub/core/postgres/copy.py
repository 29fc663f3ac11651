"""Plain inserts as one binary ``COPY ... FROM STDIN`` into the table itself.

COPY is PostgreSQL's bulk path: the rows travel in the binary COPY format (psycopg formats
each row in C) and the server inserts them without planning or projecting a statement, which
together cost half the time of the same rows as one unnesting ``INSERT ... SELECT`` (arrays
are dumped by psycopg in Python). It inserts exactly as that INSERT does: the same column
defaults for the columns not given, the same checks (NOT NULL, lengths, unique keys, foreign
keys) raising the same errors, inside the session's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table

from hub.core.postgres.columns import quoted, sql_type

# The column types as psycopg's binary dumpers name them. JSON goes as text: a json value's
# binary form is its text. A type missing here makes the caller use the INSERT instead.
_COPY_TYPES = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "BOOLEAN": "bool",
    "TEXT": "text",
    "JSON": "text",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DATE": "date",
}


@lru_cache(maxsize=512)
def copy_types(table: Table, columns: tuple[str, ...]) -> tuple[str, ...] | None:
    """Each column's type for the binary COPY, or None when one has no binary dumper here."""
    names = []
    for column in columns:
        type_ = sql_type(table, column)
        name = "varchar" if type_.startswith("VARCHAR") else _COPY_TYPES.get(type_)
        if name is None:
            return None
        names.append(name)
    return tuple(names)


@lru_cache(maxsize=512)
def _copy_sql(table: Table, columns: tuple[str, ...]) -> str:
    return (
        f"COPY {quoted(table.name)} ({', '.join(map(quoted, columns))}) FROM STDIN (FORMAT BINARY)"
    )


def copy_rows(
    cur: Any, table: Table, columns: tuple[str, ...], types: Sequence[str], rows: Any
) -> None:
    """COPY ``rows`` (tuples in the order of ``columns``, already converted for the driver)."""
    with cur.copy(_copy_sql(table, columns)) as copy:
        copy.set_types(list(types))
        write = copy.write_row
        for row in rows:
            write(row)
