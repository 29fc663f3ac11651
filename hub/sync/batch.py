"""Pages of a stream gathered into one ingest transaction (see ``PageBatch``)."""

from __future__ import annotations

import time
from typing import Any

from hub.connectors import Page


class PageBatch:
    """Pages read but not yet applied: several pages go into one ingest transaction (with the
    cursor of the last one), so commits, progress writes and per-call ingest work are paid per
    batch, not per page. A batch is flushed at ``limit`` records, after ``seconds``, or before
    a page that repeats a record already in it (so the newer version is applied after)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self.records: list[Any] = []
        self.keys: set[tuple[str, Any]] = set()
        self.last: Page | None = None
        self.started = time.monotonic()

    def repeats(self, page: Page) -> bool:
        """Whether ``page`` holds a record already in the batch."""
        return bool(self.keys) and not self.keys.isdisjoint(record_keys(page.records))

    def add(self, page: Page) -> None:
        if self.last is None:
            self.started = time.monotonic()
        self.records.extend(page.records)
        self.keys.update(record_keys(page.records))
        self.last = page

    def full(self) -> bool:
        """Enough records, or held long enough: time to apply it."""
        return len(self.records) >= self.limit or time.monotonic() - self.started >= self.seconds

    def take(self) -> Page | None:
        """The batch as one page (the last page's state and total), and a fresh batch."""
        if self.last is None:
            return None
        page = Page(self.records, self.last.state, total=self.last.total)
        self.records, self.keys, self.last = [], set(), None
        return page


def record_keys(records: list[Any]) -> list[tuple[str, Any]]:
    """(record type, external id) of the records that have an external id."""
    return [
        (type(r).__name__, key)
        for r in records
        if (key := getattr(r, "external_id", None)) is not None
    ]
