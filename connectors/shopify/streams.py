"""The Shopify streams: customers, products, orders (``status=any``) and abandoned checkouts,
each read over the engine's window on ``updated_at`` (``updated_at_min``/``updated_at_max``,
so the lookback and the cap are the engine's), and deletions read from ``events.json``
(``verb=destroy``, on ``created_at``).

A stream's page state is ``{"page_info": cursor | None, "done": n, "total": n, "end": bool}``:
the cursor of the page after the last committed one (the first call's filters live inside
Shopify's cursor), so a resumed run continues at the next page. The first sync of a store
(the engine's full window: no bookmark yet) reads every customer and product, whatever its
age (orders and checkouts keep the engine's first-sync window), and marks the customers it
creates as the initial import's (H4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.shopify.client import PAGE_LIMIT, ShopifyClient, next_page_info
from connectors.shopify.mapping import (
    ORDER_FIELDS,
    map_checkout,
    map_customer,
    map_event,
    map_order,
    map_product,
)
from hub.connectors import Page, Stream, SyncWindow
from hub.sync.readahead import ReadAhead

# Pages fetched ahead of the one being decoded and mapped (see ResourceStream.read).
FETCH_AHEAD = 2


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


class ResourceStream(Stream):
    """One Admin API resource read page by page over a window."""

    resource: ClassVar[str]
    time_field: ClassVar[str] = "updated_at"
    extra: ClassVar[dict[str, str]] = {}
    # the first (full) sync reads every row, whatever its age: every contact and product
    whole_on_full: ClassVar[bool] = False
    fields: ClassVar[tuple[str, ...]] = ()  # the top-level fields asked for (all when empty)

    def __init__(
        self,
        client: ShopifyClient,
        *,
        store_id: str | None = None,
        store_name: str | None = None,
        page_size: int = PAGE_LIMIT,
    ) -> None:
        self.client = client
        self.store_id = store_id
        self.store_name = store_name
        self.page_size = page_size

    def params(self, window: SyncWindow) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": self.page_size}
        if not (window.full and self.whole_on_full):
            params[f"{self.time_field}_min"] = iso(window.start)
        params[f"{self.time_field}_max"] = iso(window.end)
        if self.fields:
            params["fields"] = ",".join(self.fields)
        return {**params, **self.extra}

    def mapper(self, window: SyncWindow) -> Callable[[dict[str, Any]], Any]:
        raise NotImplementedError

    def read(self, window: SyncWindow, state: dict[str, Any]) -> Iterator[Page]:
        if state.get("end"):
            return
        params = self.params(window)
        page_info = state.get("page_info")
        done = int(state.get("done") or 0)
        total = state.get("total")
        if page_info is None and total is None:
            count_params = {k: v for k, v in params.items() if k not in ("limit", "fields")}
            total = self.client.count(self.resource, count_params)
        to_record = self.mapper(window)
        # The next pages are fetched on a thread of their own while this one is decoded and
        # mapped (the Link header names the next page before the body is read): the wait for
        # the shop overlaps the decoding. Requests stay one at a time, in order.
        fetched = ReadAhead(
            self._responses(params, page_info), FETCH_AHEAD, f"shopify-fetch-{self.name}"
        )
        try:
            for response, page_info in fetched:
                rows = self.client.rows(self.resource, response)
                del response  # its body freed before the page is mapped
                records = [r for row in rows if (r := to_record(row)) is not None]
                done += len(rows)
                end = page_info is None
                yield Page(
                    records,
                    {"page_info": page_info, "done": done, "total": total, "end": end},
                    total=None if total is None else max(total, done),
                )
                if end:
                    return
        finally:
            fetched.close()

    def _responses(
        self, params: dict[str, Any], page_info: str | None
    ) -> Iterator[tuple[Any, str | None]]:
        """The pages of the listing from ``page_info`` on, undecoded, each with the next
        page's ``page_info`` (None after the last)."""
        while True:
            response = self.client.fetch(self.resource, params, page_info)
            page_info = next_page_info(response)
            yield response, page_info
            if page_info is None:
                return


class CustomersStream(ResourceStream):
    name = "customers"
    resource = "customers"
    whole_on_full = True

    def mapper(self, window: SyncWindow) -> Callable[[dict[str, Any]], Any]:
        first = window.full
        return lambda row: map_customer(row, first_sync=first)


class ProductsStream(ResourceStream):
    name = "products"
    resource = "products"
    whole_on_full = True

    def mapper(self, window: SyncWindow) -> Callable[[dict[str, Any]], Any]:
        return map_product


class OrdersStream(ResourceStream):
    name = "orders"
    resource = "orders"
    extra: ClassVar[dict[str, str]] = {"status": "any"}
    # what map_order reads: the shop's money bags, tax and shipping lines, fulfilments and
    # the rest are left on Shopify's side (smaller pages, faster parsing)
    fields = ORDER_FIELDS

    def mapper(self, window: SyncWindow) -> Callable[[dict[str, Any]], Any]:
        first, store_id, store_name = window.full, self.store_id, self.store_name
        return lambda row: map_order(
            row, first_sync=first, store_id=store_id, store_name=store_name
        )


class CheckoutsStream(ResourceStream):
    """Abandoned checkouts (``checkouts.json`` lists only those not completed)."""

    name = "checkouts"
    resource = "checkouts"
    extra: ClassVar[dict[str, str]] = {"status": "any"}

    def mapper(self, window: SyncWindow) -> Callable[[dict[str, Any]], Any]:
        first = window.full
        return lambda row: map_checkout(row, first_sync=first)


class DeletionsStream(ResourceStream):
    """Orders and products deleted on the shop, from ``events.json`` (H7)."""

    name = "deletions"
    resource = "events"
    time_field = "created_at"
    extra: ClassVar[dict[str, str]] = {"verb": "destroy", "filter": "Order,Product"}

    def mapper(self, window: SyncWindow) -> Callable[[dict[str, Any]], Any]:
        return map_event
