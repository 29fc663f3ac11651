"""The Sobot bulk order connector: the template of seed 003, at most 5,000 rows (S2-S6)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from connectors.files.base import (
    Batch,
    FileImport,
    ImportContext,
    RowFailure,
    SpreadsheetConnector,
)
from connectors.files.cells import CHINA, CellError
from connectors.files.limits import Limits
from connectors.files.reader import SourceRow, Table, open_table
from connectors.sobot import mapping
from connectors.sobot.template import MAX_ROWS, template_example, template_headers
from hub.connectors import Prechecks
from hub.core.errors import N_
from hub.core.records import OrderRecord, Record


class SobotImport(FileImport):
    def __init__(self, table: Table, index: dict[str, int], tz: tzinfo = CHINA):
        self.table = table
        self.index = index
        self.tz = tz  # the workspace's zone: order times are its wall time
        self.rows: list[SourceRow] = []
        self.summary: dict[str, Any] = {}

    def prepare(self) -> None:
        """Read the file's rows: more than 5,000 is refused as the next one is read (S2)."""
        self.rows = list(self.table.held_rows())
        self.summary = {"rows": len(self.rows)}

    def total_rows(self) -> int:
        return len(self.rows)

    def batches(self, size: int) -> Iterator[Batch]:
        """Rows of one order must travel together, so the file (5,000 rows at most) is parsed
        whole, then its orders are cut into batches of about ``size`` rows."""
        parsed, failures = [], []
        for row in self.rows:
            try:
                parsed.append((row, mapping.parse_row(row.cells, self.index, self.tz)))
            except CellError as exc:
                failures.append(RowFailure(row, str(exc)))
        items, more = mapping.build_items(parsed)
        batch = Batch(failures=failures + more, rows=len(failures) + len(more))
        for item in items:
            batch.items.append(item)
            batch.rows += len(item.rows)
            if batch.rows >= size:
                yield batch
                batch = Batch()
        batch.late = partial(mapping.products, parsed)
        yield batch


class SobotConnector(SpreadsheetConnector):
    platform: ClassVar[str] = "sobot"
    display_name: ClassVar[str] = "Sobot orders"
    import_kind: ClassVar[str] = "sobot-orders"
    entity: ClassVar[str] = "orders"
    samples: ClassVar[tuple[str, ...]] = ("sobot-orders.csv",)
    limits: ClassVar[Limits] = Limits(rows=MAX_ROWS)
    files_expected: ClassVar[str] = N_(
        "A Sobot order import takes one file (.xlsx, .csv or .txt) with the columns of the "
        "Sobot order template; you chose %(count)s."
    )

    @classmethod
    def precheck(cls, records: list[Record], checks: Prechecks) -> dict[int, str]:
        """S4: a new product under a known order no merges into the stored order."""
        checks.merge_stored_lines([r for r in records if isinstance(r, OrderRecord)])
        return {}

    @classmethod
    def template(cls) -> tuple[list[str], list[list[str]]]:
        return template_headers(), template_example()

    @classmethod
    def check_upload(cls, files: Sequence[tuple[Path, str]]) -> None:
        """One file, with the template's required columns."""
        cls.check_count(files)
        path, name = files[0]
        mapping.header_index(open_table(path, name, cls.limits).headers)

    @classmethod
    def open_import(
        cls, files: Sequence[tuple[Path, str]], settings: dict[str, Any], context: ImportContext
    ) -> SobotImport:
        cls.check_count(files)
        path, name = files[0]
        table = open_table(path, name, cls.limits)
        return SobotImport(table, mapping.header_index(table.headers), context.zone)
