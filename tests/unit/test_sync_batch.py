"""Pages as the engine holds them: each state frozen when its page is yielded (``frozen``),
several pages applied in one transaction with the last page's cursor (``PageBatch``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.connectors import Page
from hub.sync.batch import PageBatch, ReadPage, StateNotSerialisable, frozen
from hub.sync.readahead import ReadAhead


@dataclass
class Rec:
    external_id: str


def page(ids: list[str], n: int) -> ReadPage:
    return next(frozen("orders", [Page([Rec(i) for i in ids], {"page_no": n}, total=100)]))


def test_x1_batch_keeps_the_last_page_state_and_all_records():
    batch = PageBatch(limit=5, seconds=60)
    batch.add(page(["a", "b"], 1))
    assert not batch.full()
    batch.add(page(["c", "d", "e"], 2))
    assert batch.full()
    taken = batch.take()
    assert [r.external_id for r in taken.records] == ["a", "b", "c", "d", "e"]
    assert taken.position() == {"page_no": 2}
    assert batch.take() is None  # emptied


def test_x1_batch_flags_a_page_repeating_a_record_so_versions_apply_in_order():
    batch = PageBatch(limit=1000, seconds=60)
    batch.add(page(["a", "b"], 1))
    assert batch.repeats(page(["c", "b"], 2))
    assert not batch.repeats(page(["c", "d"], 2))


def test_x1_batch_is_full_after_its_time_limit():
    batch = PageBatch(limit=1000, seconds=0)
    batch.add(page(["a"], 1))
    assert batch.full()


def careless(pages: int):
    """A stream that yields one live state object and one list of records, and keeps changing
    them as it reads on."""
    state: dict = {"queue": [[0, 9]], "page_no": 1}
    records: list = []
    for n in range(1, pages + 1):
        state["page_no"] = n
        if n == 3:
            state["queue"].pop(0)  # the window is read: gone from the live list
        records[:] = [Rec(str(n))]
        yield Page(records, state)


@pytest.mark.parametrize("depth", [0, 1, 8])
def test_x2_a_page_keeps_the_state_it_was_yielded_with_whatever_the_stream_does_after(depth):
    """Read ahead or not, a page held unapplied keeps its own position."""
    source = frozen("orders", careless(5))
    pages = list(ReadAhead(source, depth) if depth else source)
    assert [p.position() for p in pages[:3]] == [
        {"queue": [[0, 9]], "page_no": 1},
        {"queue": [[0, 9]], "page_no": 2},
        {"queue": [], "page_no": 3},
    ]
    batch = PageBatch(limit=1000, seconds=60)
    for held in pages[:2]:
        batch.add(held)
    taken = batch.take()
    assert [r.external_id for r in taken.records] == ["1", "2"]
    assert taken.position() == {"queue": [[0, 9]], "page_no": 2}
    assert taken.position() is not taken.position()  # a fresh object for every reader


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ({"seen": {"E1"}}, "set is not JSON serializable"),
        ({"cursor": {"after": object()}}, "object is not JSON serializable"),
        ([1, 2], "must be a dict, not list"),
    ],
)
def test_a_state_that_cannot_be_stored_fails_naming_the_stream(state, reason):
    with pytest.raises(StateNotSerialisable, match=f"stream refunds: .*{reason}"):
        list(frozen("refunds", [Page([], state)]))
