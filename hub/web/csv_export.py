"""CSV downloads (issue 22.17): streamed row by row from a generator (constant memory, whatever
the number of rows), Excel-friendly (UTF-8 with a BOM, CRLF line ends), money as plain
decimals, times as ISO-8601 with their offset, and text that a spreadsheet would run as a
formula (a cell starting with = + - @, a tab or a carriage return) prefixed with ``'``
(CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Response
from sqlalchemy.orm import Session

from hub.extensions import db

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FLUSH_ROWS = 200  # rows per chunk sent


def cell(value: Any) -> str | int:
    """One value as a CSV cell: numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text in chunks: the BOM and the header first, then FLUSH_ROWS rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(rows, 1):
        writer.writerow([cell(v) for v in row])
        if n % FLUSH_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


Rows = Iterable[Sequence[Any]]


def response(
    filename: str, header: Sequence[str], rows: Rows | Callable[[Session], Rows]
) -> Response:
    """A streamed CSV attachment named ``filename``; ``rows`` is read as the client reads. A
    callable gets a database session of the download's own, open until the last row is sent
    or the client goes away (the request, its context and its session are over by then; the
    filters were read before)."""
    engine = db.engine

    def body() -> Iterator[str]:
        if not callable(rows):
            yield from lines(header, rows)
            return
        with Session(engine) as session:
            yield from lines(header, rows(session))

    answer = Response(body(), mimetype="text/csv")
    answer.mimetype_params["charset"] = "utf-8"
    answer.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    answer.headers["Cache-Control"] = "no-store"
    return answer
