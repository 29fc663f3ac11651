"""The rows of an .xlsx's first worksheet, streamed with expat, with every cell as text.

The declared dimension is ignored (nothing is sized by it): a row is as long as its last cell
with a value, and rows missing from the sheet are simply not there. A row has at most 16,384
cells (Excel's last column, XFD), values only up to ``columns``, at most ``row_chars`` of text
and ``cell_chars`` a cell; row numbers go up and stop at Excel's last row. With ``preview``
(the header, in a web request) at most ``preview_bytes`` of the sheet and of its shared
strings are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl.utils.datetime import from_excel, from_ISO8601

from connectors.files.limits import Limits, UnreadableFile
from connectors.files.reader import cell_text
from connectors.files.xlsx_parts import (
    MAX_DEPTH,
    Book,
    SharedStrings,
    broken,
    feed,
    open_zip,
    parser,
    part,
    read_book,
)

MAX_ROW = 1_048_576  # Excel's last row
MAX_CELLS = 16_384  # Excel's last column


def xlsx_rows(
    path: Path, label: str, limits: Limits, *, preview: bool
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) of each row with a value, in order."""
    budget = limits.preview_bytes if preview else None
    with open_zip(path, label, limits) as book:
        found = read_book(book, label, limits)
        strings = None
        if found.strings:
            strings = SharedStrings(book, found.strings, label, limits, budget)
        sheet = _Sheet(label, limits, strings, found)
        try:
            with part(book, found.sheet, limits.file_bytes, label) as stream:
                xml = parser(sheet.start, sheet.end, sheet.text)
                for _read in feed(stream, xml, label, limits, budget):
                    done, sheet.rows = sheet.rows, []
                    for number, cells in done:
                        yield number, sheet.resolve(number, cells)
        finally:
            if strings is not None:
                strings.close()


def _column(ref: str, previous: int) -> int:
    """The column number of a reference like 'AB12' (the next column if it has none)."""
    number = 0
    for char in ref:
        if not "A" <= char <= "Z":
            break
        number = number * 26 + ord(char) - 64
    return number or previous + 1


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


class _Sheet:
    """expat handlers that collect the rows of one chunk of the sheet in ``rows``."""

    def __init__(self, label: str, limits: Limits, strings: SharedStrings | None, book: Book):
        self.label = label
        self.limits = limits
        self.strings = strings
        self.book = book
        self.rows: list[tuple[int, list[Any]]] = []
        self.depth = 0
        self.number = 0  # the row being read
        self.cells: list[Any] = []  # text, or the index of a shared string
        self.count = self.chars = self.column = self.style = self.size = 0
        self.kind = "n"
        self.keep = False  # inside a <v>, or an inline string's <t>
        self.phonetic = False
        self.pieces: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise broken(self.label, f"elements nested more than {MAX_DEPTH} deep")
        tag = name[name.find(":") + 1 :]
        if tag == "c":
            self._cell(attrs)
        elif tag == "v" or (tag == "t" and not self.phonetic):
            self.keep = True
        elif tag == "row":
            self._row(attrs)
        elif tag == "rPh":
            self.phonetic = True

    def text(self, data: str) -> None:
        if self.keep:
            self.size += len(data)
            if self.size > self.limits.cell_chars:
                raise UnreadableFile(f"{self.label}: row {self.number}: a cell holds more than "
                                     f"{self.limits.cell_chars:,} characters")  # fmt: skip
            self.pieces.append(data)

    def end(self, name: str) -> None:
        self.depth -= 1
        tag = name[name.find(":") + 1 :]
        if tag == "c":
            self._end_cell()
        elif tag == "v" or tag == "t":
            self.keep = False
        elif tag == "row":
            if self.cells:
                self.rows.append((self.number, self.cells))
        elif tag == "rPh":
            self.phonetic = False

    def _row(self, attrs: dict[str, str]) -> None:
        number = _number(attrs.get("r", "")) or self.number + 1
        if number <= self.number or number > MAX_ROW:
            raise broken(self.label, f"row number {number} after row {self.number}")
        self.number = number
        self.cells = []
        self.count = self.chars = self.column = 0

    def _cell(self, attrs: dict[str, str]) -> None:
        self.count += 1
        if self.count > MAX_CELLS:
            raise UnreadableFile(f"{self.label}: row {self.number} has more than "
                                 f"{MAX_CELLS:,} cells")  # fmt: skip
        self.column = _column(attrs.get("r", ""), self.column)
        self.kind = attrs.get("t", "n")
        self.style = _number(attrs.get("s", "0"))
        self.pieces = []
        self.size = 0

    def resolve(self, number: int, cells: list[Any]) -> list[str]:
        """The row with its shared strings looked up (only for the rows taken: opening a
        file stops after the header), within ``row_chars`` of text. A new list: the chunk's
        rows keep their indexes, not the strings (one string can fill many rows)."""
        chars = 0
        out = []
        for cell in cells:
            if type(cell) is int:
                cell = self.strings.get(cell)  # type: ignore[union-attr]
            chars += len(cell)
            if chars > self.limits.row_chars:
                raise self._too_long(number)
            out.append(cell)
        return out

    def _too_long(self, number: int) -> UnreadableFile:
        return UnreadableFile(f"{self.label}: row {number} holds more than "
                              f"{self.limits.row_chars:,} characters")  # fmt: skip

    def _end_cell(self) -> None:
        value = self._value("".join(self.pieces))
        if value == "":
            return
        if self.column > self.limits.columns:
            raise UnreadableFile(
                f"{self.label}: row {self.number} has a value in column {self.column:,}, beyond "
                f"the {self.limits.columns:,} columns a file may have"
            )
        if type(value) is str:
            self.chars += len(value)
            if self.chars > self.limits.row_chars:
                raise self._too_long(self.number)
        cells = self.cells
        if self.column > len(cells):
            cells.extend([""] * (self.column - 1 - len(cells)))
            cells.append(value)
        else:
            cells[self.column - 1] = value

    def _value(self, text: str) -> str | int:
        """The cell as text, or the index of its shared string."""
        kind = self.kind
        if kind == "s":
            return self._shared(text)
        if not text or kind in ("inlineStr", "str", "e"):
            return text
        if kind == "b":
            return "TRUE" if text.strip() in ("1", "true") else "FALSE"
        try:
            if kind == "d":
                return cell_text(from_ISO8601(text))
            number = float(text) if "." in text or "e" in text or "E" in text else int(text)
            if self.style in self.book.dates:
                timedelta = self.style in self.book.timedeltas
                return cell_text(from_excel(number, self.book.epoch, timedelta=timedelta))
        except (ValueError, OverflowError):
            return text
        return cell_text(number)

    def _shared(self, text: str) -> int:
        if self.strings is None or not (text.isascii() and text.isdigit() and len(text) < 11):
            raise broken(self.label, f"row {self.number} refers to shared string {text!r}")
        return int(text)
