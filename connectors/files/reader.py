"""Read .xlsx (streamed, ``connectors.files.xlsx``) and .csv/.txt (UTF-8, UTF-8 with BOM,
GBK/GB18030; fields separated by commas, tabs or semicolons, whichever the header line uses)
as a header plus rows of text cells. The format, the encoding and the separator come from the
bytes, never from the file name. Blank rows and ``#`` comment rows are skipped; header cells
are trimmed.

Opening a file reads a bounded preview: the start of the file, until the header (what a web
request may do). ``Table.rows()`` streams the whole file (what the import job does). Both stay
within ``Limits``: a file over one is refused with ``UnreadableFile`` naming the limit.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from connectors.files.limits import Limits, UnreadableFile, mib

__all__ = ["Limits", "SourceRow", "Table", "UnreadableFile", "cell_text", "open_table"]

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
BOM = codecs.BOM_UTF8
CHUNK = 1 << 16
DELIMITERS = (",", "\t", ";")
DEFAULT_LIMITS = Limits()


@dataclass(slots=True)
class SourceRow:
    """One data row: its line (csv) or row number (xlsx) and its cells as text ('' if blank)."""

    line: int
    cells: list[str]


class Table:
    """An opened file: its format (xlsx|csv), its header and the line it was found on."""

    def __init__(self, path: Path, label: str, fmt: str, limits: Limits) -> None:
        self.path = path
        self.label = label
        self.format = fmt
        self.limits = limits
        self.headers: list[str] = []
        self.header_line = 0
        self._encoding: str | None = None
        self._whole = True  # the encoding was found from the whole file
        self.delimiter = ","  # of a text table: the one its header line uses

    @property
    def encoding(self) -> str | None:
        """The CSV's encoding. Opening finds it from the start of the file; the whole file
        is checked the first time it is asked for after that (by the import job)."""
        if not self._whole:
            self._encoding, self._whole = detect_encoding(self.path, self.label)
        return self._encoding

    def rows(self) -> Iterator[SourceRow]:
        """Data rows after the header, streamed; padded/trimmed to the header's width. More
        than ``limits.rows`` of them is refused as soon as the next one is read."""
        width, most = len(self.headers), self.limits.rows
        count = chars = 0
        for line, cells in self._raw(preview=False):
            if line <= self.header_line or _skippable(cells):
                continue
            count += 1
            chars += sum(map(len, cells))
            if chars > self.limits.file_bytes:
                raise UnreadableFile(
                    f"{self.label}: row {line}: the rows hold more than "
                    f"{self.limits.file_bytes:,} characters of text; split the file"
                )
            if count > most:
                raise UnreadableFile(
                    f"{self.label}: more than {most} data rows; at most {most} rows per file. "
                    "Split the file and import each part"
                )
            if len(cells) != width:
                cells = (cells + [""] * width)[:width]
            yield SourceRow(line, cells)

    def held_rows(self) -> Iterator[SourceRow]:
        """``rows()`` for an import that keeps them in memory: their text is at most
        ``limits.held_chars`` (a small workbook can repeat a long shared string on every row)."""
        most, held = self.limits.held_chars, 0
        for row in self.rows():
            held += sum(map(len, row.cells))
            if held > most:
                raise UnreadableFile(
                    f"{self.label}: row {row.line}: the rows hold more than {most:,} characters "
                    "of text, more than one import keeps in memory; split the file"
                )
            yield row

    def count_rows(self) -> int:
        return sum(1 for _ in self.rows())

    def _raw(self, *, preview: bool) -> Iterator[tuple[int, list[str]]]:
        if self.format == "xlsx":
            from connectors.files.xlsx import xlsx_rows  # openpyxl (and numpy) only when needed

            return xlsx_rows(self.path, self.label, self.limits, preview=preview)
        encoding = self._encoding if preview else self.encoding
        return _csv_rows(self.path, encoding or "utf-8", self.label, self.limits, self.delimiter)

    def _find_header(self) -> None:
        with closing(self._raw(preview=True)) as rows:
            for seen, (line, cells) in enumerate(rows, start=1):
                if seen > self.limits.header_rows:
                    break
                if _skippable(cells):
                    continue
                headers = [c.strip() for c in cells]
                while headers and not headers[-1]:
                    headers.pop()
                self.headers, self.header_line = headers, line
                return
        raise UnreadableFile(f"{self.label}: no header row found in the first "
                             f"{self.limits.header_rows} rows (the file has no data)")  # fmt: skip


def open_table(path: str | Path, name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Table:
    """Open a file and read its header (a bounded preview); raises UnreadableFile saying why
    it cannot be read."""
    path = Path(path)
    label = name or path.name
    head, size = _head(path, label)
    if head.startswith(OLE_MAGIC):
        raise UnreadableFile(f"{label}: legacy .xls files are not supported; save it as .xlsx")
    table = Table(path, label, "xlsx" if head.startswith(ZIP_MAGIC) else "csv", limits)
    if table.format == "csv":
        if size > limits.file_bytes:
            raise UnreadableFile(
                f"{label}: the file is {mib(size)}, more than {mib(limits.file_bytes)}; "
                "split it into smaller files"
            )
        table._encoding, table._whole = detect_encoding(path, label, limits.preview_bytes)
        table.delimiter = sniff_delimiter(path, table._encoding, limits)
    table._find_header()
    return table


def _head(path: Path, label: str) -> tuple[bytes, int]:
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            size = fh.seek(0, 2)
    except OSError as exc:
        raise UnreadableFile(f"{label}: cannot open the file ({exc.strerror})") from exc
    if not head:
        raise UnreadableFile(f"{label}: the file is empty")
    return head, size


def detect_encoding(path: Path, label: str = "", limit: int | None = None) -> tuple[str, bool]:
    """(encoding, whether the whole file was read): utf-8-sig if the file starts with a BOM,
    else utf-8 if every byte (of the first ``limit``) decodes, else gb18030."""
    with path.open("rb") as fh:
        if fh.read(3) == BOM:
            return "utf-8-sig", True
    for encoding in ("utf-8", "gb18030"):
        decodes, whole = _decodes(path, encoding, limit)
        if decodes:
            return encoding, whole
    raise UnreadableFile(
        f"{label or path.name}: not a text file in UTF-8 or GBK/GB18030, and not an .xlsx workbook"
    )


def sniff_delimiter(path: Path, encoding: str, limits: Limits) -> str:
    """The separator of a text table: of comma, tab and semicolon, the one the first line
    that is neither blank nor a comment holds most often outside quotes (a comma if none)."""
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        for _n in range(limits.header_rows):
            line = fh.readline(limits.row_chars + 2)  # a longer line is refused when read
            if not line:
                break
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            outside = "".join(line.split('"')[::2])  # the parts between quoted fields
            counts = {d: outside.count(d) for d in DELIMITERS}
            best = max(DELIMITERS, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def _decodes(path: Path, encoding: str, limit: int | None) -> tuple[bool, bool]:
    decoder = codecs.getincrementaldecoder(encoding)()
    read = 0
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
                read += len(chunk)
                if limit is not None and read >= limit:
                    return True, False
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, True
    return True, True


def _csv_rows(
    path: Path, encoding: str, label: str, limits: Limits, delimiter: str = ","
) -> Iterator[tuple[int, list[str]]]:
    """CSV records, decoded while streaming: no line longer than ``row_chars`` is read whole,
    no record (whose quoted fields may span lines) takes more than ``row_chars`` either, and
    no record has more than ``columns`` fields."""
    with path.open(encoding=encoding, newline="") as fh:
        record = [0]  # characters read since the last record ended
        reader = csv.reader(_lines(fh, label, limits.row_chars, record), delimiter=delimiter)
        try:
            for cells in reader:
                record[0] = 0
                if len(cells) > limits.columns:
                    raise UnreadableFile(
                        f"{label}: line {reader.line_num} has {len(cells):,} fields, more than "
                        f"the {limits.columns:,} columns a file may have"
                    )
                yield reader.line_num, cells
        except csv.Error as exc:
            raise UnreadableFile(f"{label}: line {reader.line_num}: not valid CSV ({exc})") from exc
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"{label}: after line {reader.line_num}: not {encoding} "
                                 f"text ({exc.reason})") from exc  # fmt: skip


def _lines(fh: IO[str], label: str, most: int, record: list[int]) -> Iterator[str]:
    number = 0
    while line := fh.readline(most + 2):
        number += 1
        if len(line) > most and len(line.rstrip("\r\n")) > most:
            raise UnreadableFile(f"{label}: line {number} is longer than {most:,} characters "
                                 f"(at most {most:,} a line)")  # fmt: skip
        record[0] += len(line)
        if record[0] > most + 2:
            raise UnreadableFile(f"{label}: line {number}: a row (its quoted fields spanning "
                                 f"lines) is longer than {most:,} characters")  # fmt: skip
        yield line


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
