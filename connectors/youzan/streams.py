"""The orders stream: ``youzan.trades.sold.get`` 4.0.4 over paired ``start_update``/``end_update``
windows of at most 3 months, read in update-time order from the last update time read
(keyset), deduplicated by tid, refunds joined from ``youzan.trade.refund.search`` 3.0.0.

Each call asks for the orders updated from ``since`` (the update time of the last order read)
to the window's end, page 1. Paging by ``page_no`` instead would skip orders: an order updated
while a window is paged leaves it (its new update time is after the sync's start), every later
page shifts by one and an unchanged order is never read; ``page_no`` also stops at 100 (10,000
rows). Only the orders of one second can still shift: those already read are in ``skip``, and
``page_no`` pages through a second shared by more than a page of orders.

The page state ``{"windows", "since", "skip", "page_no", "done"}`` is built anew for each page:
the position after that page's orders, resumed exactly after the last committed page."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from connectors.youzan.mapping import SHANGHAI, ciphertexts, map_trade, parse_time
from connectors.youzan.pii import Decryptor
from hub.connectors import Page, Stream, SyncWindow
from hub.core.errors import HubError

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGE_NO = 100  # trades.sold.get: page_no <= 100 and page_no * page_size <= 10,000
MAX_SPAN_S = 90 * 86400  # "at most 3 months"
REFUND_MAX_ROWS = 3000  # refund.search: page_no * page_size <= 3000


def fmt(epoch: int) -> str:
    """Epoch seconds as Youzan's Shanghai ``yyyy-MM-dd HH:mm:ss``."""
    return datetime.fromtimestamp(epoch, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def split_span(start: int, end: int, span: int = MAX_SPAN_S) -> list[list[int]]:
    """Consecutive inclusive [a, b] second ranges of at most ``span`` covering [start, end]."""
    out, a = [], start
    while a <= end:
        b = min(a + span - 1, end)
        out.append([a, b])
        a = b + 1
    return out


@dataclass(frozen=True, slots=True)
class Position:
    """Where the stream stands: the windows left (the first one being read), the update time
    the next call starts at (``None``: the window's start), the tids already read at that
    second, the page within that second, and the records yielded so far."""

    windows: tuple[tuple[int, int], ...]
    since: int | None = None
    skip: tuple[str, ...] = ()
    page_no: int = 1
    done: int = 0

    @classmethod
    def load(cls, state: dict[str, Any], window: SyncWindow) -> Position:
        """The position a state names; a window's start for ``{}`` (or a state of the page_no
        era, whose position cannot be trusted: its window is read again)."""
        if "windows" not in state:
            start = int(window.start.astimezone(UTC).timestamp())
            end = int(window.end.astimezone(UTC).timestamp())
            return cls(tuple((a, b) for a, b in split_span(start, end)))
        return cls(
            windows=tuple((int(a), int(b)) for a, b in state["windows"]),
            since=state.get("since"),
            skip=tuple(state.get("skip") or ()),
            page_no=int(state.get("page_no") or 1),
            done=int(state.get("done") or 0),
        )

    @property
    def start(self) -> int:
        """The update time the next call starts at."""
        return self.windows[0][0] if self.since is None else self.since

    def state(self) -> dict[str, Any]:
        """A new JSON dict (new lists) naming this position."""
        return {
            "windows": [[a, b] for a, b in self.windows],
            "since": self.since,
            "skip": list(self.skip),
            "page_no": self.page_no,
            "done": self.done,
        }

    def already_read(self, read: list[tuple[str, int]]) -> list[bool]:
        """For each (tid, update time) of a page, whether it was read on an earlier page."""
        skip = set(self.skip)
        return [when == self.start and tid in skip for tid, when in read]

    def after(self, read: list[tuple[str, int]], total: int, size: int, n: int) -> Position:
        """The position after a page of ``read`` (tid, update time) out of ``total`` from
        ``since``, ``n`` records yielded for it."""
        done = self.done + n
        if len(read) < size or (self.page_no - 1) * size + len(read) >= total > 0:
            return Position(self.windows[1:], done=done)  # the window is read
        last = read[-1][1]
        at_last = tuple(tid for tid, when in read if when == last)
        if last > self.start:
            return replace(self, since=last, skip=at_last, page_no=1, done=done)
        if self.page_no >= MAX_PAGE_NO:
            raise HubError(
                f"youzan.trades.sold.get: more than {MAX_PAGE_NO * size} orders were updated "
                f"at {fmt(last)}; Youzan pages no further than page_no {MAX_PAGE_NO}"
            )
        skip = tuple(dict.fromkeys(self.skip + at_last))
        return replace(self, since=last, skip=skip, page_no=self.page_no + 1, done=done)


class TradesStream(Stream):
    name = "orders"
    primary_key = "external_id"
    cursor_field = "updated_at"

    def __init__(
        self,
        client: Any,
        *,
        store_id: str,
        store_name: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.client = client
        self.store_id = store_id
        self.store_name = store_name
        self.page_size = page_size
        self.pii = Decryptor(client)
        self._refunds: dict[str, list[dict[str, Any]]] = {}
        self._loaded: set[tuple[int, int]] = set()
        self._covered_from: int | None = None

    def read(self, window: SyncWindow, state: dict[str, Any]) -> Iterator[Page]:
        pos = Position.load(state, window)
        while pos.windows:
            a, b = pos.windows[0]
            since = pos.start
            data = self._sold(since, b, pos.page_no)
            infos = [x["full_order_info"] for x in data.get("full_order_info_list") or []]
            read = update_times(infos, since, b)
            fresh = [i for i, old in zip(infos, pos.already_read(read), strict=True) if not old]
            records = self._map(fresh, a, b)
            total = int(data.get("total_results") or 0)
            left = max(0, total - (pos.page_no - 1) * self.page_size - len(infos))
            pos = pos.after(read, total, self.page_size, len(records))
            yield Page(records, pos.state(), total=pos.done + left)

    # ------------------------------------------------------------------ calls
    def _sold(self, a: int, b: int, page_no: int) -> dict[str, Any]:
        params = {
            "start_update": fmt(a),
            "end_update": fmt(b),
            "page_no": page_no,
            "page_size": self.page_size,
        }
        return self.client.call("youzan.trades.sold.get", "4.0.4", params) or {}

    def _map(self, infos: list[dict[str, Any]], a: int, b: int) -> list[Any]:
        self.pii.prefetch(ciphertexts(infos))
        self._load_refunds(a, b)
        for info in infos:
            if (info.get("order_info") or {}).get("refund_state"):
                created = _created(info)
                if created is None or created < (self._covered_from or a):
                    self._refunds[_tid(info)] = refunds_of(self.client, _tid(info))
        records = []
        for info in infos:
            rec = map_trade(info, refunds=self._refunds.get(_tid(info), ()),
                            plain=self.pii.plain, store_id=self.store_id,
                            store_name=self.store_name)  # fmt: skip
            if rec is not None:
                records.append(rec)
        return records

    def _load_refunds(self, a: int, b: int) -> None:
        """Refunds modified in each window, by one ranged search per window. Windows run in
        order, so the refunds of every trade created since the first window are all known (a
        refund bumps its trade's update time); older trades are looked up by tid."""
        if (a, b) in self._loaded:
            return
        self._loaded.add((a, b))
        if self._covered_from is None:
            self._covered_from = a
        known = {str(r["refund_id"]) for rows in self._refunds.values() for r in rows}
        for row in search_refunds(self.client, a, b):
            if str(row["refund_id"]) not in known:
                self._refunds.setdefault(str(row["tid"]), []).append(row)


def search_refunds(client: Any, a: int, b: int) -> list[dict[str, Any]]:
    """All refunds with ``modified`` in [a, b] (unix seconds), splitting past 3,000 rows."""
    rows: list[dict[str, Any]] = []
    page_no = 1
    while True:
        params = {
            "update_time_start": a,
            "update_time_end": b,
            "page_no": page_no,
            "page_size": 100,
        }
        data = client.call("youzan.trade.refund.search", "3.0.0", params) or {}
        total = int(data.get("total") or 0)
        if total > REFUND_MAX_ROWS and b > a:
            mid = a + (b - a) // 2
            return search_refunds(client, a, mid) + search_refunds(client, mid + 1, b)
        rows += data.get("refunds") or []
        if page_no * 100 >= total or not data.get("refunds"):
            return rows
        page_no += 1


def update_times(infos: list[dict[str, Any]], since: int, end: int) -> list[tuple[str, int]]:
    """(tid, update time) of each order of a page, checked to run in update-time order inside
    [since, end]: reading on from the last update time read depends on it."""
    out, prev = [], since
    for info in infos:
        tid, text = _tid(info), (info.get("order_info") or {}).get("update_time")
        when = parse_time(text, tid=tid, field="update_time")
        stamp = int(when.timestamp()) if when else None
        if stamp is None or not prev <= stamp <= end:
            raise HubError(
                f"youzan.trades.sold.get: trade {tid} has update_time {text!r}, out of update-time "
                f"order (expected from {fmt(prev)} to {fmt(end)})"
            )
        out.append((tid, stamp))
        prev = stamp
    return out


def refunds_of(client: Any, tid: str) -> list[dict[str, Any]]:
    data = client.call("youzan.trade.refund.search", "3.0.0", {"tid": tid, "page_size": 100})
    return list((data or {}).get("refunds") or [])


def _created(info: dict[str, Any]) -> int | None:
    created = parse_time((info.get("order_info") or {}).get("created"))
    return int(created.timestamp()) if created else None


def _tid(info: dict[str, Any]) -> str:
    return str((info.get("order_info") or {}).get("tid") or "")
