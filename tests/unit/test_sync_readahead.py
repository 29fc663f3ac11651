"""ReadAhead: a stream's pages read in a thread, in order, with errors where they happened."""

import contextvars
import threading
import time

import pytest

from hub.sync.readahead import ReadAhead


def test_items_arrive_in_order_and_end():
    assert list(ReadAhead(iter(range(50)), depth=2)) == list(range(50))


def test_reads_ahead_while_the_consumer_works():
    produced: list[int] = []

    def source():
        for i in range(5):
            produced.append(i)
            yield i

    pages = ReadAhead(source(), depth=2)
    assert next(pages) == 0
    deadline = time.monotonic() + 5
    while len(produced) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    # one item handed over, two waiting in the queue: never more than depth ahead
    assert produced == [0, 1, 2]
    assert list(pages) == [1, 2, 3, 4]


def test_an_error_is_raised_at_its_position():
    def source():
        yield 1
        yield 2
        raise ConnectionError("page 3 failed")

    pages = ReadAhead(source(), depth=4)
    assert next(pages) == 1
    assert next(pages) == 2
    with pytest.raises(ConnectionError, match="page 3 failed"):
        next(pages)
    with pytest.raises(StopIteration):
        next(pages)


def test_close_stops_the_reader_early():
    produced: list[int] = []

    def source():
        for i in range(1000):
            produced.append(i)
            yield i

    with ReadAhead(source(), depth=1) as pages:
        assert next(pages) == 0
    time.sleep(0.2)
    assert len(produced) <= 3
    assert not any(t.name == "read-ahead" for t in threading.enumerate())


def test_the_reader_sees_the_callers_context():
    current = contextvars.ContextVar("current", default="none")
    current.set("app")

    def source():
        yield current.get()

    assert list(ReadAhead(source())) == ["app"]
