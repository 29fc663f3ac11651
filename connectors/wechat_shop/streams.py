"""The mini shop's streams, each resumable per page: products (``/product/spu/get_list`` for
the taken SPU statuses 5, 11, 12, 13; W4) read before orders (``/product/order/get_list``
on update time, ``start_update_time``/``end_update_time`` in Shanghai wall time over the
engine's window; a full window, a migration, reads every order whatever its age, W6).

Unpaid orders (10) are dropped. A product first met in an order page is emitted in that page
before the order, create-only, with the migration rules in force (W7); ``known`` (shared by
the two streams of one connector) holds the product ids already emitted in this run, so a
product is sent once, not with every order page (a repeated record cuts the engine's batch).

The page state ``{"status": i, "page": n, "done": n}`` is the next call's position: the index
into the status list being read (products) and the page (from 1) within it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connectors.wechat_shop.client import WechatShopClient
from connectors.wechat_shop.mapping import (
    SPU_STATUSES,
    fmt,
    map_order,
    map_spu,
    products_in_orders,
)
from hub.connectors import Page, Stream, SyncWindow
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
            records: list[Record] = [r for s in spus if (r := map_spu(s, self.rule)) is not None]
            self.known.update(r.external_id for r in records)
            done += len(records)
            if len(spus) < self.page_size or page * self.page_size >= total:
                index, page = index + 1, 1
            else:
                page += 1
            yield Page(records, {"status": index, "page": page, "done": done})


class OrdersStream(Stream):
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
        self.known = known if known is not None else set()
        self.store_id = store_id
        self.store_name = store_name
        self.page_size = page_size

    def params(self, window: SyncWindow) -> dict[str, Any]:
        params: dict[str, Any] = {"end_update_time": fmt(window.end)}
        if not window.full:
            params["start_update_time"] = fmt(window.start)
        return params

    def read(self, window: SyncWindow, state: dict[str, Any]) -> Iterator[Page]:
        if state.get("end"):
            return
        page = int(state.get("page") or 1)
        done = int(state.get("done") or 0)
        params = self.params(window)
        while True:
            data = self.client.call(
                "/product/order/get_list", {**params, "page": page, "page_size": self.page_size}
            )
            orders = [o for o in data.get("orders") or [] if isinstance(o, dict)]
            total = int(data.get("total_num") or 0)
            fresh = [
                p for p in products_in_orders(orders, self.rule) if p.external_id not in self.known
            ]
            self.known.update(p.external_id for p in fresh)
            records: list[Record] = list(fresh)
            for order in orders:
                record = map_order(order, store_id=self.store_id, store_name=self.store_name)
                if record is not None:
                    records.append(record)
            done += len(orders)
            end = len(orders) < self.page_size or page * self.page_size >= total
            page += 1
            yield Page(records, {"page": page, "done": done, "end": end}, total=max(total, done))
            if end:
                return
