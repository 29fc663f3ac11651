"""Failure files (the failed rows, their columns, plus a reason column) and templates, written
in the input's format. Cells that a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from hub.core.formulas import neutralise

REASON_HEADER = "reason"


class FailureWriter:
    """Appends failed rows to a file in the input's format; opened lazily on the first row."""

    def __init__(self, path: Path, headers: Sequence[str], fmt: str, encoding: str | None):
        self.path = path
        self.headers = [*headers, REASON_HEADER]
        self.format = fmt
        self.encoding = _output_encoding(encoding)
        self.count = 0
        self._fh = None
        self._csv = None
        self._book = None
        self._sheet = None

    def add(self, cells: Sequence[str], reason: str) -> None:
        if self.count == 0:
            self._open()
        row = [neutralise(c) for c in cells] + [neutralise(reason)]
        if self._csv is not None:
            self._csv.writerow(row)
        else:
            self._sheet.append(row)
        self.count += 1

    def close(self) -> Path | None:
        """Finish the file; returns its path, or None when no row failed (no file)."""
        if self._fh is not None:
            self._fh.close()
        if self._book is not None:
            self._book.save(self.path)
            self._book.close()
        return self.path if self.count else None

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = [neutralise(h) for h in self.headers]
        if self.format == "xlsx":
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet("failures")
            self._sheet.append(header)
        else:
            self._fh = self.path.open("w", encoding=self.encoding, newline="")
            self._csv = csv.writer(self._fh)
            self._csv.writerow(header)


def write_failures(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[tuple[Sequence[str], str]],
    fmt: str,
    encoding: str | None = None,
) -> Path | None:
    """Write (cells, reason) pairs at once; returns the path or None if there were none."""
    writer = FailureWriter(path, headers, fmt, encoding)
    for cells, reason in rows:
        writer.add(cells, reason)
    return writer.close()


def write_template(
    path: Path, headers: Sequence[str], examples: Iterable[Sequence[str]] = ()
) -> Path:
    """A template in the format of the path's suffix (.xlsx or .csv, UTF-8 with BOM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [list(headers), *[list(r) for r in examples]]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("template")
        for row in rows:
            sheet.append(row)
        book.save(path)
        return path
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _output_encoding(encoding: str | None) -> str:
    """GBK inputs get GB18030 (a superset that can write any reason text)."""
    if encoding in (None, "utf-8"):
        return "utf-8"
    return "gb18030" if encoding.lower() in ("gbk", "gb2312", "gb18030") else encoding
