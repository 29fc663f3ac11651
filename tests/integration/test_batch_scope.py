"""What the core changes process-wide for a batch (the cycle collector, the interpreter's
switch interval, a listener for the write-behind thread) is scoped to that batch: after it,
succeeded or failed, everything is as it was, and no listener is left on the engine or the
connection. These run on a SQLite file of their own in both runs of the suite (the fast path
exists only there)."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from hub.core import batch, ingest
from hub.core.sqlite import behind
from tests.support.orders import shop_batch

# Two chunks: the write-behind thread and the snapshot reader both take part.
ORDERS = ingest.ORDERS_PER_CHUNK + 200


@pytest.fixture
def odd_switch_interval() -> Iterator[float]:
    """A switch interval no one else sets, restored after the test."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.0037)
    yield sys.getswitchinterval()  # as the interpreter stores it (whole microseconds)
    sys.setswitchinterval(before)


def listeners(target: object) -> int:
    return len(target.dispatch.before_cursor_execute)  # type: ignore[attr-defined]


def hub_threads() -> list[str]:
    names = ("hub-write-behind", "hub-snapshot-reader")
    return [t.name for t in threading.enumerate() if t.name.startswith(names)]


@pytest.mark.parametrize("collector", [True, False], ids=["gc-on", "gc-off"])
def test_a_batch_leaves_the_process_as_it_found_it(
    sqlite_file_session, odd_switch_interval, collector, monkeypatch
):
    session, ws, _ = sqlite_file_session
    seen: dict[str, object] = {}
    plan = batch.plan_order

    def watched(stored, rec):  # what the batch runs under, seen from inside it
        seen.setdefault("gc", gc.isenabled())
        seen.setdefault("interval", sys.getswitchinterval())
        return plan(stored, rec)

    monkeypatch.setattr(batch, "plan_order", watched)
    engine = session.get_bind()
    before = listeners(engine)
    (gc.enable if collector else gc.disable)()
    try:
        result = ingest.apply(session, ws, shop_batch(0, ORDERS, 300))
        assert result.counts["orders"]["created"] == ORDERS
        assert seen == {"gc": False, "interval": pytest.approx(behind.SWITCH_INTERVAL)}
        assert gc.isenabled() is collector
    finally:
        gc.enable()
    assert sys.getswitchinterval() == odd_switch_interval
    assert listeners(engine) == before
    assert not event.contains(engine, "before_cursor_execute", behind._wait_for_write_behind)
    assert behind.current() is None
    assert hub_threads() == []


def test_a_failed_batch_leaves_the_process_as_it_found_it(
    sqlite_file_session, odd_switch_interval, monkeypatch
):
    session, ws, _ = sqlite_file_session
    plan = batch.plan_order
    calls = []

    def failing(stored, rec):  # fails in the second chunk, with writes queued behind
        calls.append(rec)
        if len(calls) > ingest.ORDERS_PER_CHUNK + 50:
            raise RuntimeError("planning failed")
        return plan(stored, rec)

    monkeypatch.setattr(batch, "plan_order", failing)
    engine = session.get_bind()
    before = listeners(engine)
    connection = session.connection()
    with pytest.raises(RuntimeError, match="planning failed"):
        ingest.apply(session, ws, shop_batch(0, ORDERS, 300))
    assert gc.isenabled()
    assert sys.getswitchinterval() == odd_switch_interval
    assert listeners(engine) == before
    assert listeners(connection) == 0
    assert behind.current() is None
    assert hub_threads() == []
    monkeypatch.setattr(batch, "plan_order", plan)  # the session still works afterwards
    assert ingest.apply(session, ws, shop_batch(0, 10, 5)).counts["orders"]["created"] == 10
    assert listeners(engine) == before
