"""The contract between a file connector and the hub's import job.

A file connector opens the uploaded files (refusing them before anything is written when the
files or their headers are wrong) and streams batches of canonical records, each record
carrying the source rows it came from so that the job can write exactly those rows, with a
reason, to the failure file when the row or the record fails.

Opening reads only each file's header (a bounded preview, what a web request may do); the
import job calls ``prepare`` and ``batches``, which read the whole files within the
connector's ``limits``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from marshmallow import Schema

from connectors.files.limits import MIB, Limits
from connectors.files.reader import SourceRow, Table, open_table
from connectors.files.writer import FailureWriter, write_template
from hub.connectors import BindInfo, Connector
from hub.core.records import Record

BATCH_CHARS = 8 * MIB  # text one batch keeps, whatever its row count


@dataclass(slots=True)
class Item:
    """A record and the rows of the failure file it came from."""

    record: Record
    rows: list[SourceRow]


@dataclass(slots=True)
class RowFailure:
    row: SourceRow
    reason: str  # names the field (column) and the rule


@dataclass
class Batch:
    items: list[Item] = field(default_factory=list)
    failures: list[RowFailure] = field(default_factory=list)
    skipped: int = 0  # rows left out by rule (e.g. Tmall orders in a state not taken)
    rows: int = 0  # data rows this batch covers
    chars: int = 0  # text of the rows it keeps (for the failure file)
    # Records taken only from rows that did not fail (e.g. products found in order rows, S6):
    # called with the failed rows' line numbers after the batch is applied.
    late: Callable[[set[int]], list[Item]] | None = None

    def add_row(self, row: SourceRow) -> None:
        self.rows += 1
        self.chars += sum(map(len, row.cells))

    def full(self, size: int) -> bool:
        """``size`` rows, or fewer holding BATCH_CHARS of text (long rows: a small workbook
        can repeat a long shared string on every row)."""
        return self.rows >= size or self.chars >= BATCH_CHARS


@dataclass
class ImportContext:
    """What the hub knows that the mapping needs: the workspace's custom fields (I2)."""

    custom_identities: dict[str, str] = field(default_factory=dict)  # name -> label
    custom_properties: dict[str, str] = field(default_factory=dict)


class FileImport:
    """One opened import. ``table`` is the file whose rows go into the failure file."""

    table: Table
    summary: dict[str, Any]

    def prepare(self) -> None:
        """Read what must be checked before anything is written (the whole file against the
        row limit, in-file duplicates); raises ValidationFailed. Called once, by the job."""

    @abstractmethod
    def total_rows(self) -> int:
        """Data rows of the failure-file table (for progress), once prepared."""

    @abstractmethod
    def batches(self, size: int) -> Iterator[Batch]:
        """Stream the file as batches of about ``size`` rows."""


class _NoSettings(Schema):
    pass


class FileConnector(Connector):
    """A connector fed by uploaded files instead of an API. Nothing to bind."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"file_import"})
    settings_schema: ClassVar[type[Schema]] = _NoSettings
    import_kind: ClassVar[str]  # the name used by `hub import <kind>` and the API
    file_count: ClassVar[int] = 1  # how many files one import takes
    limits: ClassVar[Limits] = Limits()  # what one file may hold (rows, columns, sizes)

    def check(self) -> BindInfo:
        return BindInfo(external_id=self.platform, name=self.display_name)

    @classmethod
    def make_context(cls, identities: dict[str, str], properties: dict[str, str]) -> ImportContext:
        return ImportContext(custom_identities=identities, custom_properties=properties)

    @classmethod
    def failure_writer(cls, path: Path, table: Table) -> FailureWriter:
        """The failure file of ``table``: same format, same columns, plus a reason column."""
        return FailureWriter(path, table.headers, table.format, table.encoding)

    @classmethod
    def preview(cls, files: Sequence[tuple[Path, str]], context: ImportContext) -> dict[str, Any]:
        """What the upload page shows before the import: each file's header."""
        return {"headers": [open_table(path, name, cls.limits).headers for path, name in files]}

    @classmethod
    def write_template(cls, path: Path) -> Path:
        """The downloadable template (.xlsx or .csv by the path's suffix)."""
        headers, examples = cls.template()
        return write_template(path, headers, examples)

    @classmethod
    @abstractmethod
    def template(cls) -> tuple[list[str], list[list[str]]]:
        """The template's headers (required ones marked *) and example rows."""

    @classmethod
    @abstractmethod
    def open_import(
        cls, files: Sequence[tuple[Path, str]], settings: dict[str, Any], context: ImportContext
    ) -> FileImport:
        """Open (path, original name) files; raises ValidationFailed before anything is written."""
