"""PageBatch: several stream pages applied in one transaction, with the last page's cursor."""

from __future__ import annotations

from dataclasses import dataclass

from hub.connectors import Page
from hub.sync.batch import PageBatch


@dataclass
class Rec:
    external_id: str


def page(ids: list[str], n: int) -> Page:
    return Page([Rec(i) for i in ids], {"page_no": n}, total=100)


def test_x1_batch_keeps_the_last_page_state_and_all_records():
    batch = PageBatch(limit=5, seconds=60)
    batch.add(page(["a", "b"], 1))
    assert not batch.full()
    batch.add(page(["c", "d", "e"], 2))
    assert batch.full()
    taken = batch.take()
    assert [r.external_id for r in taken.records] == ["a", "b", "c", "d", "e"]
    assert taken.state == {"page_no": 2}
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
