"""A tiny file kind that lives outside hub/ (tests only): a guest book of visitors, one per
row (Name, Email*), imported as customers. Registered by its dotted name in CONNECTORS, it must
import end to end (CLI, API, demo) without a line of hub/ naming it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from connectors.files.base import (
    Batch,
    FileImport,
    ImportContext,
    Item,
    RowFailure,
    SpreadsheetConnector,
)
from connectors.files.reader import Table, open_table
from hub.connectors import Prechecks
from hub.core.errors import ValidationFailed
from hub.core.records import CustomerRecord, Record

HEADERS = ["Name", "Email*"]
BLOCKED = "@spam-house.net"


class GuestbookImport(FileImport):
    def __init__(self, table: Table) -> None:
        self.table = table
        self.summary: dict[str, Any] = {}
        self._total = 0

    def prepare(self) -> None:
        self._total = self.table.count_rows()

    def total_rows(self) -> int:
        return self._total

    def batches(self, size: int) -> Iterator[Batch]:
        batch = Batch()
        for row in self.table.rows():
            batch.add_row(row)
            name, email = (c.strip() for c in row.cells[:2])
            if "@" not in email:
                batch.failures.append(RowFailure(row, f"Email*: {email!r} is not an e-mail"))
            else:
                record = CustomerRecord(identities=[("email", email)], name=name, email=email)
                batch.items.append(Item(record, [row]))
            if batch.full(size):
                yield batch
                batch = Batch()
        if batch.rows:
            yield batch


class GuestbookConnector(SpreadsheetConnector):
    platform: ClassVar[str] = "guestbook"
    display_name: ClassVar[str] = "Guest book"
    import_kind: ClassVar[str] = "guestbook"
    entity: ClassVar[str] = "customers"
    samples: ClassVar[tuple[str, ...]] = ("guestbook.csv",)

    @classmethod
    def precheck(cls, records: list[Record], checks: Prechecks) -> dict[int, str]:
        """Blocked domains fail here; the rest goes through the hub's customer checks (I4)."""
        people = [r for r in records if isinstance(r, CustomerRecord)]  # all of them
        failed = {i: "Email*: blocked domain" for i, r in enumerate(people)
                  if (r.email or "").endswith(BLOCKED)}  # fmt: skip
        rest = [i for i in range(len(people)) if i not in failed]
        found = checks.customers([people[i] for i in rest])
        return {**failed, **{rest[n]: reason for n, reason in found.items()}}

    @classmethod
    def template(cls) -> tuple[list[str], list[list[str]]]:
        return list(HEADERS), [["Ada", "ada@lovelace.org"]]

    @classmethod
    def open_import(
        cls, files: Sequence[tuple[Path, str]], settings: dict[str, Any], context: ImportContext
    ) -> GuestbookImport:
        path, name = files[0]
        table = open_table(path, name, cls.limits)
        if table.headers[:2] != HEADERS:
            raise ValidationFailed(f"{name}: the columns must be {', '.join(HEADERS)}")
        return GuestbookImport(table)
