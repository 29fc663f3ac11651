"""The orders stream: ``youzan.trades.sold.get`` 4.0.4 over paired ``start_update``/``end_update``
windows of at most 3 months, 100 per page, windows split in two while ``total_results`` exceeds
10,000 (page_no stops at 100), deduplicated by tid, refunds joined from
``youzan.trade.refund.search`` 3.0.0. The page state ``{"queue", "page_no", "done"}`` resumes
after the last committed page."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from connectors.youzan.mapping import SHANGHAI, ciphertexts, map_trade, parse_time
from connectors.youzan.pii import Decryptor
from hub.connectors import Page, Stream, SyncWindow

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_ROWS = 10_000  # page_no <= 100 at page_size 100
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
        queue = [list(w) for w in state.get("queue") or self._plan(window)]
        page_no, done = int(state.get("page_no") or 1), int(state.get("done") or 0)
        seen: set[str] = set()
        while queue:
            a, b = queue[0]
            data = self._sold(a, b, page_no)
            total = int(data.get("total_results") or 0)
            if total > MAX_ROWS and b > a:
                mid = a + (b - a) // 2
                queue[:1] = [[a, mid], [mid + 1, b]]
                page_no = 1
                continue
            infos = [x["full_order_info"] for x in data.get("full_order_info_list") or []]
            infos = [i for i in infos if _tid(i) not in seen]
            seen.update(_tid(i) for i in infos)
            records = self._map(infos, a, b)
            if page_no * self.page_size >= min(total, MAX_ROWS) or not infos and page_no > 1:
                queue.pop(0)
                page_no = 1
            else:
                page_no += 1
            done += len(records)
            state = {"queue": queue, "page_no": page_no, "done": done} if queue else {}
            yield Page(records, state, total=done + _left(queue, total, page_no, self.page_size))

    # ------------------------------------------------------------------ calls
    @staticmethod
    def _plan(window: SyncWindow) -> list[list[int]]:
        start = int(window.start.astimezone(UTC).timestamp())
        end = int(window.end.astimezone(UTC).timestamp())
        return split_span(start, end)

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


def refunds_of(client: Any, tid: str) -> list[dict[str, Any]]:
    data = client.call("youzan.trade.refund.search", "3.0.0", {"tid": tid, "page_size": 100})
    return list((data or {}).get("refunds") or [])


def _created(info: dict[str, Any]) -> int | None:
    created = parse_time((info.get("order_info") or {}).get("created"))
    return int(created.timestamp()) if created else None


def _tid(info: dict[str, Any]) -> str:
    return str((info.get("order_info") or {}).get("tid") or "")


def _left(queue: list[list[int]], total: int, page_no: int, size: int) -> int:
    """Rough rows left in the current sub-window (unknown for the later ones)."""
    if not queue:
        return 0
    return max(0, min(total, MAX_ROWS) - (page_no - 1) * size)
