"""Read .xlsx (openpyxl, read-only streaming) and .csv (UTF-8, UTF-8 with BOM, GBK/GB18030)
as a header plus rows of text cells. The format and the encoding come from the bytes, never
from the file name. Blank rows and ``#`` comment rows are skipped; header cells are trimmed."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.core.errors import ValidationFailed

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
BOM = codecs.BOM_UTF8
CHUNK = 1 << 16


class UnreadableFile(ValidationFailed):
    """The file cannot be read as a spreadsheet; the message says why."""


@dataclass(slots=True)
class SourceRow:
    """One data row: its line (csv) or row number (xlsx) and its cells as text ('' if blank)."""

    line: int
    cells: list[str]


@dataclass
class Table:
    """An opened file: its format (xlsx|csv), its encoding (csv only) and its header."""

    path: Path
    format: str
    encoding: str | None
    headers: list[str]
    header_line: int
    # The reader that found the header, positioned just after it: the first pass over the
    # rows continues it instead of opening (and, for xlsx, parsing) the file again.
    _pending: Iterator[tuple[int, list[str]]] | None = field(default=None, repr=False)

    def rows(self) -> Iterator[SourceRow]:
        """Data rows after the header, streamed; padded/trimmed to the header's width."""
        width = len(self.headers)
        source, self._pending = self._pending, None
        if source is None:
            source = _raw_rows(self.path, self.format, self.encoding)
        for line, cells in source:
            if line <= self.header_line or _skippable(cells):
                continue
            cells = (cells + [""] * width)[:width] if len(cells) != width else cells
            yield SourceRow(line, cells)

    def close(self) -> None:
        """Release the reader kept open after the header (if the rows were never read)."""
        if self._pending is not None:
            self._pending.close()  # type: ignore[attr-defined]
            self._pending = None

    def count_rows(self) -> int:
        return sum(1 for _ in self.rows())


def open_table(path: str | Path, name: str | None = None) -> Table:
    """Open a file and read its header; raises UnreadableFile saying why it cannot be read."""
    path = Path(path)
    label = name or path.name
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise UnreadableFile(f"{label}: cannot open the file ({exc.strerror})") from exc
    if not head:
        raise UnreadableFile(f"{label}: the file is empty")
    if head.startswith(OLE_MAGIC):
        raise UnreadableFile(f"{label}: legacy .xls files are not supported; save it as .xlsx")
    fmt = "xlsx" if head.startswith(ZIP_MAGIC) else "csv"
    encoding = None if fmt == "xlsx" else detect_encoding(path, label)
    raw = _raw_rows(path, fmt, encoding, label)
    for line, cells in raw:
        if not _skippable(cells):
            headers = [c.strip() for c in cells]
            while headers and not headers[-1]:
                headers.pop()
            if not any(headers):
                break
            return Table(path, fmt, encoding, headers, line, raw)
    raise UnreadableFile(f"{label}: no header row found (the file has no data)")


def detect_encoding(path: Path, label: str = "") -> str:
    """utf-8-sig if the file starts with a BOM, else utf-8 if every byte decodes, else gb18030."""
    with path.open("rb") as fh:
        if fh.read(3) == BOM:
            return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise UnreadableFile(
        f"{label or path.name}: not a text file in UTF-8 or GBK/GB18030, and not an .xlsx workbook"
    )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _raw_rows(
    path: Path, fmt: str, encoding: str | None, label: str = ""
) -> Iterator[tuple[int, list[str]]]:
    if fmt == "xlsx":
        yield from _xlsx_rows(path, label or path.name)
        return
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as exc:
            raise UnreadableFile(
                f"{label or path.name}: line {reader.line_num}: not valid CSV ({exc})"
            ) from exc


def _xlsx_rows(path: Path, label: str) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    with path.open("rb") as fh:  # a file object: openpyxl would refuse a name not .xlsx
        try:
            workbook = load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a broken zip/workbook
            raise UnreadableFile(f"{label}: not a readable .xlsx workbook ({exc})") from exc
        try:
            sheet = workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [cell_text(v) for v in values]
        finally:
            workbook.close()


def cell_text(value: Any) -> str:
    """A cell as text: integral floats without '.0', times as 'YYYY-MM-DD HH:MM:SS'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _skippable(cells: list[str]) -> bool:
    """Blank rows and comment rows (the first cell starts with '#')."""
    if cells and cells[0].lstrip().startswith("#"):
        return True
    return not any(cell.strip() for cell in cells)
