"""The shared base of the spreadsheet connectors (.xlsx/.csv uploads).

The contract itself (``FileConnector``, ``FileImport``, ``Batch``, ``Item``, ``RowFailure``,
``ImportContext``) is ``hub.connectors``'s; it is re-exported here for the connectors. This
module adds what every spreadsheet kind shares: the failure file in the upload's format, the
header preview, the template writer and the limits one file may reach.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from marshmallow import Schema

from connectors.files.limits import Limits
from connectors.files.reader import Table, open_table
from connectors.files.writer import FailureWriter, write_template
from hub.connectors import (
    Batch,
    FileConnector,
    FileImport,
    ImportContext,
    Item,
    RowFailure,
    SourceTable,
)

__all__ = [
    "Batch",
    "FileConnector",
    "FileImport",
    "ImportContext",
    "Item",
    "RowFailure",
    "SpreadsheetConnector",
]


class _NoSettings(Schema):
    pass


class SpreadsheetConnector(FileConnector):
    """A file connector reading .xlsx/.csv uploads within its ``limits``."""

    settings_schema: ClassVar[type[Schema]] = _NoSettings
    limits: ClassVar[Limits] = Limits()  # what one file may hold (rows, columns, sizes)

    @classmethod
    def check_upload(cls, files: Sequence[tuple[Path, str]]) -> None:
        """The number of files, and that each is a workbook or text table with a header."""
        cls.check_count(files)
        for path, name in files:
            open_table(path, name, cls.limits)

    @classmethod
    def failure_writer(cls, path: Path, table: SourceTable) -> FailureWriter:
        """The failure file of ``table``: same format, same columns, plus a reason column."""
        if not isinstance(table, Table):
            raise TypeError(f"{cls.__name__} writes the failures of its own tables")
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
