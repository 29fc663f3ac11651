"""The mini shop's streams, each resumable per page: products (``/product/spu/get_list`` for
the taken SPU statuses 5, 11, 12, 13; W4) read before orders (``/product/order/get_list``
on update time, ``start_update_time``/``end_update_time`` in Shanghai wall time over the
engine's window; a full window, a migration, reads every order whatever its age, W6).

Unpaid orders (10) are dropped. A product first met in an order page is emitted in that page
before the order, create-only, with the migration rules in force (W7); ``known`` (shared by
the two streams of one connector) holds the product ids already emitted in this run, so a
product is sent once, not with every order page (a repeated record cuts the engine's batch).

Page states are the next call's position: ``{"status": i, "page": n, "done": n}`` for products
(the index into the status list and the page from 1 within it); ``{"since", "skip", "page",
"done", "end"}`` for orders (see OrdersStream)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.wechat_shop.client import WechatShopClient
from connectors.wechat_shop.mapping import fmt, map_order, parse_time
from connectors.wechat_shop.products import SPU_STATUSES, map_spu, products_in_orders
from hub.connectors import Page, Stream, SyncWindow
from hub.core.errors import HubError
from hub.core.records import Record

PAGE_SIZE = 100


class ProductsStream(Stream):
    name = "products"
    cursor_field = "external_id"

    def __init__(
        self,
        client: WechatShopClient,
        rule: Mapping[str, Any],
        *,
        known: set[str] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.client = client
        self.rule = dict(rule)
        self.known = known if known is not None else set()
        self.page_size = page_size

    def read(self, window: SyncWindow, state: dict[str, Any]) -> Iterator[Page]:
        index = int(state.get("status") or 0)
        page = int(state.get("page") or 1)
        done = int(state.get("done") or 0)
        while index < len(SPU_STATUSES):
            body = {
                "status": SPU_STATUSES[index],
                "page": page,
                "page_size": self.page_size,
                "need_edit_spu": 0,
            }
            data = self.client.call("/product/spu/get_list", body)
            spus = [s for s in data.get("spus") or [] if isinstance(s, dict)]
            total = int(data.get("total_num") or 0)
            products = [r for s in spus if (r := map_spu(s, self.rule)) is not None]
            self.known.update(r.external_id for r in products)
            records: list[Record] = list(products)
            done += len(records)
            if len(spus) < self.page_size or page * self.page_size >= total:
                index, page = index + 1, 1
            else:
                page += 1
            yield Page(records, {"status": index, "page": page, "done": done})


class OrdersStream(Stream):
    """Orders over the engine's window on update time, read oldest created first and paged
    by create time (keyset): each call asks from the create time of the last order read
    (``start_create_time``), page 1, leaving out the orders of that second already read.
    Paging by ``page`` alone would skip orders: one updated while the list is paged leaves the
    window (its update time is after the sync's start), every later order shifts back by one
    and an unchanged order is never read. ``page`` only pages through a second shared by more
    than a page of orders."""

    name = "orders"

    def __init__(
        self,
        client: WechatShopClient,
        rule: Mapping[str, Any],
        *,
        store_id: str | None = None,
        store_name: str | None = None,
        known: set[str] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.client = client
        self.rule = dict(rule)
        self.store_id = store_id
        self.store_name = store_name
        self.known = known if known is not None else set()
        self.page_size = page_size

    def params(self, window: SyncWindow, since: int | None) -> dict[str, Any]:
        """The window on update time (a full window: every order, whatever its age), from
        the create time ``since`` (epoch seconds) on."""
        params: dict[str, Any] = {"end_update_time": fmt(window.end)}
        if not window.full:
            params["start_update_time"] = fmt(window.start)
        if since is not None:
            params["start_create_time"] = fmt(datetime.fromtimestamp(since, UTC))
        return params

    def read(self, window: SyncWindow, state: dict[str, Any]) -> Iterator[Page]:
        if state.get("end"):
            return
        since, skip = state.get("since"), set(state.get("skip") or ())
        page, done = int(state.get("page") or 1), int(state.get("done") or 0)
        while True:
            body = {**self.params(window, since), "page": page, "page_size": self.page_size}
            data = self.client.call("/product/order/get_list", body)
            rows = [o for o in data.get("orders") or [] if isinstance(o, dict)]
            total = int(data.get("total_num") or 0)
            created = create_times(rows, since)
            fresh = [o for o, at in zip(rows, created, strict=True)
                     if not (at == since and str(o.get("order_id")) in skip)]  # fmt: skip
            records = self._records(fresh)
            done += len(fresh)
            end = len(rows) < self.page_size or page * self.page_size >= total
            left = max(0, total - (page - 1) * self.page_size - len(rows))
            if not end:
                last = created[-1]
                at_last = {
                    str(o.get("order_id"))
                    for o, at in zip(rows, created, strict=True)
                    if at == last
                }
                if last == since:
                    skip, page = skip | at_last, page + 1
                else:
                    since, skip, page = last, at_last, 1
            state = {"since": since, "skip": sorted(skip), "page": page, "done": done, "end": end}
            yield Page(records, state, total=done + left)
            if end:
                return

    def _records(self, orders: list[dict[str, Any]]) -> list[Record]:
        fresh = products_in_orders(orders, self.rule, self.known)
        self.known.update(p.external_id for p in fresh)
        records: list[Record] = list(fresh)
        for order in orders:
            record = map_order(order, store_id=self.store_id, store_name=self.store_name)
            if record is not None:
                records.append(record)
        return records


def create_times(orders: list[dict[str, Any]], since: int | None) -> list[int]:
    """Each order's create time (epoch seconds), checked to run oldest first from ``since``:
    reading on from the last create time read depends on it."""
    out, prev = [], since or 0
    for order in orders:
        oid = order.get("order_id")
        when = parse_time(order.get("create_time"), where=f"order {oid}: create_time")
        stamp = int(when.timestamp()) if when else -1
        if stamp < prev:
            raise HubError(
                f"/product/order/get_list: order {oid} has create_time "
                f"{order.get('create_time')!r}, out of create-time order (oldest first)"
            )
        out.append(stamp)
        prev = stamp
    return out
