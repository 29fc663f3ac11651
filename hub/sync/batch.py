"""Pages of a stream as the engine holds them: each page's state frozen when the stream
yields it (``frozen``), then gathered into one ingest transaction (``PageBatch``)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import orjson

from hub.connectors import Page
from hub.core.errors import HubError
from hub.models.types import json_text


class StateNotSerialisable(HubError):
    """A stream yielded a page state that cannot be stored as JSON (a connector bug)."""


@dataclass(frozen=True, slots=True)
class ReadPage:
    """A page read from a stream and held until its batch is applied: the records and the
    stream's position after them, as the JSON text written when the page was yielded."""

    records: list[Any]
    state: str
    total: int | None = None

    def position(self) -> dict[str, Any]:
        """A fresh copy of the stream's state after this page."""
        return orjson.loads(self.state)


def frozen(stream: str, pages: Iterable[Page]) -> Iterator[ReadPage]:
    """The pages of ``stream`` with each state serialised as soon as it is yielded, before the
    stream goes on (in the thread that reads it): a connector that keeps changing objects it
    put in a state cannot move a cursor that waits to be committed with earlier records. The
    list of records is copied too (a connector reusing its list cannot empty a held page)."""
    for page in pages:
        yield ReadPage(list(page.records), freeze(stream, page.state), page.total)


def freeze(stream: str, state: dict[str, Any]) -> str:
    """``state`` as the JSON text the cursor column stores; an error naming the stream if it
    cannot be written."""
    if not isinstance(state, dict):
        raise StateNotSerialisable(
            f"stream {stream}: its page state must be a dict, not {type(state).__name__}"
        )
    try:
        return json_text(state)
    except (TypeError, ValueError) as exc:
        raise StateNotSerialisable(
            f"stream {stream}: its page state cannot be saved as JSON ({exc})"
        ) from None


class PageBatch:
    """Pages read but not yet applied: several pages go into one ingest transaction (with the
    cursor of the last one), so commits, progress writes and per-call ingest work are paid per
    batch, not per page. A batch is flushed at ``limit`` records, after ``seconds``, or before
    a page that repeats a record already in it (so the newer version is applied after)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self.records: list[Any] = []
        self.keys: set[tuple[type, Any]] = set()
        self.last: ReadPage | None = None
        self.started = time.monotonic()
        self._page_keys: tuple[ReadPage, list[tuple[type, Any]]] | None = None

    def repeats(self, page: ReadPage) -> bool:
        """Whether ``page`` holds a record already in the batch."""
        return bool(self.keys) and not self.keys.isdisjoint(self._keys_of(page))

    def add(self, page: ReadPage) -> None:
        if self.last is None:
            self.started = time.monotonic()
        self.records.extend(page.records)
        self.keys.update(self._keys_of(page))
        self.last = page
        self._page_keys = None

    def _keys_of(self, page: ReadPage) -> list[tuple[type, Any]]:
        """``record_keys`` of the page, once for ``repeats`` and ``add`` together."""
        if self._page_keys is None or self._page_keys[0] is not page:
            self._page_keys = (page, record_keys(page.records))
        return self._page_keys[1]

    def full(self) -> bool:
        """Enough records, or held long enough: time to apply it."""
        return len(self.records) >= self.limit or time.monotonic() - self.started >= self.seconds

    def take(self) -> ReadPage | None:
        """The batch as one page (the last page's frozen state and total), and a fresh batch."""
        if self.last is None:
            return None
        page = ReadPage(self.records, self.last.state, total=self.last.total)
        self.records, self.keys, self.last = [], set(), None
        return page


def record_keys(records: list[Any]) -> list[tuple[type, Any]]:
    """(record type, external id) of the records that have an external id. A page of records
    that all have one (orders, products, checkouts) is keyed without a Python call per record."""
    try:
        ids = list(map(_EXTERNAL_ID, records))
    except AttributeError:  # customers (keyed by identities) among them
        return [(type(r), key) for r in records
                if (key := getattr(r, "external_id", None)) is not None]  # fmt: skip
    keys = list(zip(map(type, records), ids, strict=True))
    return [k for k in keys if k[1] is not None] if None in ids else keys


_EXTERNAL_ID = attrgetter("external_id")
