"""The customer spreadsheet connector: any .xlsx/.csv with a column mapping (I1-I6)."""

from __future__ import annotations

import marshal
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from connectors.customers import mapping
from connectors.customers.template import TEMPLATE_EXAMPLE, TEMPLATE_HEADERS
from connectors.files.base import (
    Batch,
    FileImport,
    ImportContext,
    Item,
    RowFailure,
    SpreadsheetConnector,
)
from connectors.files.reader import SourceRow, Table, open_table
from hub.connectors import Prechecks
from hub.core.errors import N_
from hub.core.records import CustomerRecord, Record

if TYPE_CHECKING:
    import numpy as np


class CustomerImport(FileImport):
    """Two passes: the first (``prepare``) reads the file, finds keys shared by several rows
    (I4) and spools the rows to a temporary file; the second maps and streams the spooled
    rows. Memory holds 8 bytes per key (sorted in place), never the rows."""

    def __init__(self, table: Table, columns: list[mapping.Column], settings: dict[str, Any]):
        self.table = table
        self.columns = columns
        self.settings = settings
        self._total = 0
        self._spool: IO[bytes] | None = None
        self._dups: np.ndarray | None = None
        self.summary = {"mapping": {c.header: c.target for c in columns}}

    def prepare(self) -> None:
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by batches)
        self._dups = self._first_pass(self._spool)

    def total_rows(self) -> int:
        return self._total

    def _first_pass(self, spool: IO[bytes]) -> np.ndarray:
        """Read the file once: spool its rows to disk and return the keys shared by rows,
        sorted. The keys stay 8 bytes each (a list of Python ints would take 36 or more)."""
        import numpy as np  # here: web workers, which never run this, need not load it

        keys = array("q")
        rows = 0
        for row in self.table.rows():
            rows += 1
            marshal.dump((row.line, row.cells), spool)
            try:
                keys.extend(mapping.row_keys(mapping.map_row(row.cells, self.columns)))
            except mapping.RowError:
                continue
        self._total = rows
        ordered = np.frombuffer(keys, dtype=np.int64).copy()
        del keys
        ordered.sort()
        spool.seek(0)
        return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])

    def batches(self, size: int) -> Iterator[Batch]:
        if self._spool is None:
            self.prepare()
        with self._spool as spool:  # type: ignore[union-attr]
            yield from self._second_pass(spool, self._dups, size)  # type: ignore[arg-type]

    def _second_pass(self, spool: IO[bytes], dups: np.ndarray, size: int) -> Iterator[Batch]:
        batch = Batch()
        for row in _spooled(spool):
            batch.add_row(row)
            try:
                record = mapping.map_row(row.cells, self.columns)
            except mapping.RowError as exc:
                batch.failures.append(RowFailure(row, str(exc)))
            else:
                if dups.size and any(_shared(dups, k) for k in mapping.row_keys(record)):
                    batch.failures.append(RowFailure(row, mapping.SAME_CUSTOMER))
                else:
                    self._settle(record)
                    batch.items.append(Item(record, [row]))
            if batch.full(size):
                yield batch
                batch = Batch()
        if batch.rows:
            yield batch

    def _settle(self, record: Any) -> None:
        """Pre-import settings (I5): original source and campaign for the core's policy."""
        if self.settings.get("original_source"):
            record.original_source = self.settings["original_source"]
        if self.settings.get("campaign"):
            record.properties["original_campaign"] = self.settings["campaign"]


def _shared(dups: np.ndarray, key: int) -> bool:
    at = int(dups.searchsorted(key))
    return at < dups.size and int(dups[at]) == key


def _spooled(spool: IO[bytes]) -> Iterator[SourceRow]:
    while True:
        try:
            line, cells = marshal.load(spool)  # noqa: S302 (our own temporary file)
        except EOFError:
            return
        yield SourceRow(line, cells)


class CustomersConnector(SpreadsheetConnector):
    platform: ClassVar[str] = "customers"
    display_name: ClassVar[str] = "Customer spreadsheet"
    import_kind: ClassVar[str] = "customers"
    entity: ClassVar[str] = "customers"
    column_mapping: ClassVar[bool] = True
    samples: ClassVar[tuple[str, ...]] = ("customers.csv",)
    files_expected: ClassVar[str] = N_(
        "A customer import takes one file (.xlsx, .csv or .txt); you chose %(count)s. "
        "Import several files one after another."
    )

    @classmethod
    def precheck(cls, records: list[Record], checks: Prechecks) -> dict[int, str]:
        """I4: unknown customer ids, and identities owned by another or by several customers."""
        found = [(i, r) for i, r in enumerate(records) if isinstance(r, CustomerRecord)]
        failed = checks.customers([record for _i, record in found])
        return {found[n][0]: reason for n, reason in failed.items()}

    @classmethod
    def template(cls) -> tuple[list[str], list[list[str]]]:
        return list(TEMPLATE_HEADERS), [list(r) for r in TEMPLATE_EXAMPLE]

    @classmethod
    def preview(cls, files: Sequence[tuple[Path, str]], context: ImportContext) -> dict[str, Any]:
        """The mapping step (I2): headers, the suggested mapping and every possible target."""
        path, name = files[0]
        table = open_table(path, name, cls.limits)
        return {
            "headers": table.headers,
            "mapping": mapping.suggest_mapping(table.headers, context),
            "targets": mapping.targets(context),
        }

    @classmethod
    def open_import(
        cls, files: Sequence[tuple[Path, str]], settings: dict[str, Any], context: ImportContext
    ) -> CustomerImport:
        cls.check_count(files)
        path, name = files[0]
        table = open_table(path, name, cls.limits)
        chosen = settings.get("mapping") or mapping.suggest_mapping(table.headers, context)
        columns = mapping.resolve_columns(table.headers, chosen, context)
        return CustomerImport(table, columns, settings)
