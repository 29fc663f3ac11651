"""Build small spreadsheet files for import tests (csv in any encoding, or xlsx)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

IMPORT_CONNECTORS = [
    "tests.support.fake_platform:FakeConnector",
    "connectors.customers.connector:CustomersConnector",
    "connectors.sobot.connector:SobotConnector",
    "connectors.tmall.connector:TmallConnector",
]


def write_csv(
    path: Path, rows: Sequence[Sequence[object]], encoding: str = "utf-8", bom: bool = False
) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows([[("" if c is None else str(c)) for c in r] for r in rows])
    data = buf.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.reader(fh))


def read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    rows = [
        ["" if v is None else str(v) for v in r]
        for r in book.worksheets[0].iter_rows(values_only=True)
    ]
    book.close()
    return rows
