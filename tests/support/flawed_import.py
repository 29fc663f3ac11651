"""A Tmall import connector with a mapping mistake: paid amounts come out as float, not
Decimal. For the check at the core's boundary (issue 21.2): the import must fail naming the
record and the field, not store a rounded float or stop with a traceback."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from connectors.files.base import Batch, FileImport, ImportContext
from connectors.tmall.connector import TmallConnector
from hub.core.records import OrderRecord


class FloatAmounts:
    """The connector's own import, its orders' paid amounts turned into floats."""

    def __init__(self, inner: FileImport) -> None:
        self.inner = inner
        self.table = inner.table

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def batches(self, size: int) -> Iterator[Batch]:
        for batch in self.inner.batches(size):
            for item in batch.items:
                if isinstance(item.record, OrderRecord) and item.record.amount_paid is not None:
                    item.record.amount_paid = float(item.record.amount_paid)  # type: ignore[assignment]
            yield batch


class FloatTmallConnector(TmallConnector):
    @classmethod
    def open_import(
        cls, files: Sequence[tuple[Path, str]], settings: dict[str, Any], context: ImportContext
    ) -> Any:
        return FloatAmounts(super().open_import(files, settings, context))
