"""The Shopify streams fetch the next pages on a thread of their own while a page is decoded
and mapped: pages still come in order with their cursors, an error fetching a page is raised
after the pages before it, and a stream closed early stops fetching."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.shopify.streams import FETCH_AHEAD, DeletionsStream
from hub.connectors import SyncWindow

WINDOW = SyncWindow(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


class Response:
    def __init__(self, n: int, last: bool) -> None:
        self.n, self.last = n, last


class FakeClient:
    """Pages 0..pages-1 of events, each one destroy event; ``fail_at`` raises there."""

    def __init__(self, pages: int, fail_at: int | None = None) -> None:
        self.pages, self.fail_at = pages, fail_at
        self.fetched: list[str | None] = []
        self.threads: set[str] = set()

    def count(self, resource: str, params: dict[str, Any]) -> int:
        return self.pages

    def fetch(self, resource: str, params: dict[str, Any], page_info: str | None) -> Response:
        self.threads.add(threading.current_thread().name)
        n = int(page_info or 0)
        self.fetched.append(page_info)
        if n == self.fail_at:
            raise RuntimeError(f"page {n} failed")
        return Response(n, n == self.pages - 1)

    def rows(self, resource: str, response: Response) -> list[dict[str, Any]]:
        return [{"id": response.n, "subject_id": 100 + response.n, "subject_type": "Order",
                 "verb": "destroy"}]  # fmt: skip


@pytest.fixture(autouse=True)
def links(monkeypatch):
    def next_page_info(response: Response) -> str | None:
        return None if response.last else str(response.n + 1)

    monkeypatch.setattr("connectors.shopify.streams.next_page_info", next_page_info)


def test_pages_in_order_with_their_cursors_fetched_on_another_thread():
    client = FakeClient(5)
    pages = list(DeletionsStream(client).read(WINDOW, {}))  # type: ignore[arg-type]
    assert [p.records[0].external_id for p in pages] == ["100", "101", "102", "103", "104"]
    assert [p.state["page_info"] for p in pages] == ["1", "2", "3", "4", None]
    assert [p.state["done"] for p in pages] == [1, 2, 3, 4, 5] and pages[-1].state["end"]
    assert client.fetched == [None, "1", "2", "3", "4"]  # one request a page, in order
    assert threading.current_thread().name not in client.threads


def test_a_failed_fetch_is_raised_after_the_pages_before_it():
    stream = DeletionsStream(FakeClient(5, fail_at=3))  # type: ignore[arg-type]
    got = []
    with pytest.raises(RuntimeError, match="page 3 failed"):
        for page in stream.read(WINDOW, {}):
            got.append(page.state["page_info"])
    assert got == ["1", "2", "3"]


def test_a_stream_closed_early_stops_fetching():
    client = FakeClient(50)
    pages = DeletionsStream(client).read(WINDOW, {})  # type: ignore[arg-type]
    next(pages)
    pages.close()
    assert len(client.fetched) <= 2 + FETCH_AHEAD + 1
