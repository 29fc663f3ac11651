"""The Youzan orders stream against the sandbox over real HTTP: read in update-time order from
the last update time read, so orders changing while a window is read make no other order
skipped, and a resume from any page's committed state reads exactly the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
import requests

from connectors.sandbox_serving import serve
from connectors.youzan.connector import YouzanConnector
from connectors.youzan.sandbox import create_app, demo_bind_config
from connectors.youzan.streams import TradesStream, fmt, update_times
from hub.connectors import ConnectorContext, SyncWindow
from hub.core.errors import HubError
from hub.sync.egress import EgressPolicy
from hub.sync.http import HttpClient

NEXT = {  # a step that changes an order of each state (its update time becomes now)
    "WAIT_SELLER_SEND_GOODS": "ship",
    "WAIT_BUYER_CONFIRM_GOODS": "succeed",
    "TRADE_SUCCESS": "refund",
}


@pytest.fixture
def sandbox():
    running = serve(create_app(seed=31, orders=0))
    yield running
    running.stop()


def shop(sandbox):
    return sandbox.app.extensions["youzan_sandbox"].shop


def stream(sandbox, page_size: int = 10) -> TradesStream:
    config = YouzanConnector.validate_config(
        {**demo_bind_config(sandbox.url), "backoff_seconds": 0.01}
    )
    http = HttpClient(egress=EgressPolicy(allow_private=True))  # the sandbox is on 127.0.0.1
    context = ConnectorContext(None, {"client_secret": config["client_secret"]}, http)
    client = YouzanConnector(config, context).client
    return TradesStream(client, store_id=config["kdt_id"], page_size=page_size)


def window(days: int = 365) -> SyncWindow:
    """The last ``days``, ending a little before now (what changes now is after its end)."""
    end = datetime.now(UTC) - timedelta(seconds=5)
    return SyncWindow(end - timedelta(days=days), end, True)


def tids(pages) -> list[str]:
    return [r.external_id for p in pages for r in p.records]


def taken(sandbox) -> set[str]:
    return {t.tid for t in shop(sandbox).trades.values() if t.status != "WAIT_BUYER_PAY"}


def same_second(sandbox, n: int, at: int) -> set[str]:
    """``n`` orders paid in the same second ``at``."""
    with shop(sandbox).lock:
        trades = [shop(sandbox).make_trade(at - 600) for _ in range(n)]
        for trade in trades:
            shop(sandbox).pay(trade, at)
    return {t.tid for t in trades}


def test_orders_changed_while_a_window_is_read_make_no_other_order_skipped(sandbox):
    shop(sandbox).generate(200, days=60)
    before = taken(sandbox)
    pages = stream(sandbox).read(window(80), {})  # one 3-month window
    first = [next(pages) for _ in range(3)]
    assert len(tids(first)) > 20
    for tid in tids(first)[::3]:  # a third of what was read moves past the window's end
        action = NEXT.get(shop(sandbox).trades[tid].status)
        if action:
            requests.post(f"{sandbox.url}/_sandbox/orders/{tid}/{action}", timeout=10)
    read = tids(first) + tids(pages)
    assert len(read) == len(set(read))
    assert set(read) == before  # with page_no paging, every later page shifted: orders lost


def test_more_orders_in_one_second_than_a_page_are_read_once_even_when_pages_shift(sandbox):
    shop(sandbox).generate(60, days=30)
    now = shop(sandbox).now() - 3600
    crowd = same_second(sandbox, 45, now - 86400) | same_second(sandbox, 10, now)
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"dup_tid": True}, timeout=10)
    read = tids(stream(sandbox).read(window(), {}))
    assert len(read) == len(set(read))
    assert set(read) == taken(sandbox) and crowd <= set(read)


def test_a_resume_from_any_page_reads_exactly_the_rest(sandbox):
    """Over 3-month windows (empty ones too), pages ending inside a second, the last page."""
    shop(sandbox).generate(150, days=360)
    same_second(sandbox, 25, shop(sandbox).now() - 200 * 86400)
    whole = window(400)
    pages = list(stream(sandbox).read(whole, {}))
    for k, page in enumerate(pages):
        state = orjson.loads(orjson.dumps(page.state))  # as the cursor column gives it back
        assert tids(stream(sandbox).read(whole, state)) == tids(pages[k + 1 :]), k
    assert len(pages[0].state["windows"]) == 5 and any(p.state["page_no"] > 1 for p in pages)
    assert pages[-1].state["windows"] == []  # the end is no start: nothing read again


def test_a_position_of_the_page_no_era_reads_its_window_again(sandbox):
    """Committed by the stream before this one, it may be ahead of the records applied."""
    shop(sandbox).generate(80, days=30)
    start = int(window().start.timestamp())
    legacy = {"queue": [[start + 86400, start + 90 * 86400]], "page_no": 4, "done": 30}
    assert set(tids(stream(sandbox).read(window(), legacy))) == taken(sandbox)


def test_no_more_than_100_pages_of_one_second(sandbox):
    """Youzan stops at page_no 100: an error, never a silent skip."""
    at = shop(sandbox).now() - 3600
    same_second(sandbox, 101, at)
    with pytest.raises(HubError, match=f"more than 100 orders were updated at {fmt(at)}"):
        list(stream(sandbox, page_size=1).read(window(), {}))


def test_orders_out_of_update_time_order_are_an_error_naming_the_trade():
    def info(tid: str, when: str) -> dict:
        return {"order_info": {"tid": tid, "update_time": when}}

    rows = [info("E1", "2026-03-01 10:00:05"), info("E2", "2026-03-01 10:00:07")]
    start = int(datetime(2026, 3, 1, 2, tzinfo=UTC).timestamp())  # 10:00 in Shanghai
    assert update_times(rows, start, start + 60) == [("E1", start + 5), ("E2", start + 7)]
    with pytest.raises(HubError, match="trade E1 has update_time '2026-03-01 10:00:05'"):
        update_times(list(reversed(rows)), start, start + 60)
