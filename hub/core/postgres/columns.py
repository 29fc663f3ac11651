"""Column types as PostgreSQL names and as conversions of whole columns of values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hub.models.types import Money, UTCDateTime, json_text, money_cents_many

DIALECT = postgresql.dialect()

Convert = Callable[[Sequence[Any]], Sequence[Any]]

# ``n`` new ids of a table, as its id column's default would draw them (parameters: the quoted
# table name, n). The sequence is looked up once per statement (``OFFSET 0`` keeps the lookup
# in its own one-row subquery): written inside ``nextval(...)`` it ran once per id, a scan of
# pg_depend each time, 10 us an id where nextval itself costs 0.4 us.
NEW_IDS_SQL = (
    "SELECT nextval(s.seq) FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq "
    "OFFSET 0) AS s, generate_series(1, %s)"
)


def cursor(session: Session) -> Any:
    """The driver's cursor on the session's connection, inside its transaction."""
    connection: Connection = session.connection()
    return connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def quoted(name: str) -> str:
    """An identifier from the code's own table and column names (never user input)."""
    return f'"{name}"'


@lru_cache(maxsize=1024)
def sql_type(table: Table, column: str) -> str:
    """The column's type as PostgreSQL spells it, e.g. ``VARCHAR(200)`` or ``BIGINT``."""
    return str(table.c[column].type.compile(dialect=DIALECT))


@lru_cache(maxsize=1024)
def converter(table: Table, column: str, dialect: Any) -> Convert | None:
    """What turns a column of Python values into what the array parameter carries: money as
    cents, JSON as its text (None stays NULL, as on SQLite's fast path), aware times checked;
    None when the values go as they are."""
    type_ = table.c[column].type
    if isinstance(type_, Money):
        return money_cents_many
    if isinstance(type_, UTCDateTime):
        return _aware
    if isinstance(type_, JSON):
        return _json_texts
    proc = type_.bind_processor(dialect)
    if proc is None:
        return None
    return lambda values: [proc(value) for value in values]


def _aware(values: Sequence[Any]) -> Sequence[Any]:
    """Times as they are (psycopg sends an aware datetime with its offset); a naive one is
    refused, as the UTCDateTime column refuses it."""
    for value in values:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: time must be timezone-aware")
    return values


def _json_texts(values: Sequence[Any]) -> list[str | None]:
    return [None if value is None else json_text(value) for value in values]


@lru_cache(maxsize=1024)
def result_processor(table: Table, column: str, dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's conversion of a fetched value (money from cents, times to UTC), as
    the session's dialect has it (psycopg decodes JSON itself)."""
    proc: Callable[[Any], Any] | None = table.c[column].type.result_processor(dialect, None)
    return proc
