"""A batch of several chunks is resolved chunk by chunk: the buyers of the next chunk are
looked up while this one is planned (on SQLite on the snapshot reader's own connection, while
the writer thread writes). What a chunk decides must be what one pass over the whole batch
would decide: buyers known before the batch, buyers first met in an earlier chunk, identity
limits counted across chunks, and an earlier uncommitted batch in the same transaction."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from hub.core import ingest
from hub.core.sqlite import snapshot
from hub.extensions import db
from hub.models import Customer, Identity, Order
from tests.support.orders import order

CHUNK = ingest.ORDERS_PER_CHUNK


@pytest.fixture
def reads(monkeypatch) -> Counter:
    """How many queries each snapshot reader ran (none on PostgreSQL)."""
    calls: Counter = Counter()
    real = snapshot.SnapshotReader.json

    def json(self, sql, params):
        calls["json"] += 1
        return real(self, sql, params)

    monkeypatch.setattr(snapshot.SnapshotReader, "json", json)
    return calls


def sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hub-snapshot-reader")]


def filler(n: int, prefix: str) -> list:
    """``n`` orders of one-off buyers, to push the orders under test into later chunks."""
    return [
        order(f"{prefix}{i}", identities=[("yz_open_id", f"{prefix}-buyer{i}")]) for i in range(n)
    ]


def owners_of(*pairs: tuple[str, str]) -> set[int]:
    rows = db.session.execute(select(Identity.type, Identity.value, Identity.customer_id))
    owner = {(t, v): c for t, v, c in rows}
    return {owner[p] for p in pairs}


def test_buyers_known_before_the_batch_or_met_in_an_earlier_chunk_are_one_customer(
    workspace, reads
):
    ingest.apply(db.session, workspace.id, [order("OLD", identities=[("wx_unionid", "U-old")])])
    batch = filler(CHUNK - 1, "a")
    batch.append(order("N1", identities=[("yz_open_id", "yz-new"), ("wx_openid", "o-new")]))
    batch += filler(CHUNK, "b")  # the new buyer again, two chunks on, with one more identity
    batch.append(order("N2", identities=[("yz_open_id", "yz-new"), ("mobile", "13912345678")]))
    batch.append(order("O2", identities=[("wx_openid", "o-old"), ("wx_unionid", "U-old")]))
    batch += filler(CHUNK, "c")
    batch.append(order("N3", identities=[("mobile", "139 1234 5678")]))  # the same mobile

    result = ingest.apply(db.session, workspace.id, batch)

    assert result.counts["orders"] == {"created": len(batch)}
    assert result.conflicts == []
    old = owners_of(("wx_unionid", "U-old"), ("wx_openid", "o-old"))
    new = owners_of(("yz_open_id", "yz-new"), ("wx_openid", "o-new"), ("mobile", "13912345678"))
    assert len(old) == len(new) == 1 and old != new
    customer = dict(db.session.execute(select(Order.external_id, Order.customer_id)).all())
    assert {customer["N1"], customer["N2"], customer["N3"]} == new
    assert {customer["OLD"], customer["O2"]} == old
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 2 + 3 * CHUNK - 1
    assert (reads["json"] > 0) == sqlite()
    assert reader_threads() == []


def test_an_identity_limit_is_counted_across_chunks(workspace, reads):
    """The customer holds two mobiles before the batch (limit 3): the first new one, in the
    second chunk, is attached; the next, two chunks on, is refused and reported."""
    known = [("wx_unionid", "U-vip")]
    ingest.apply(
        db.session,
        workspace.id,
        [order(f"K{i}", identities=[*known, ("mobile", f"1390000000{i}")]) for i in (1, 2)],
    )
    batch = filler(CHUNK + 5, "a")
    batch.append(order("M3", identities=[*known, ("mobile", "13900000003")]))
    batch += filler(CHUNK, "b")
    batch.append(order("M4", identities=[*known, ("mobile", "13900000004")]))

    result = ingest.apply(db.session, workspace.id, batch)

    vip = owners_of(*known).pop()
    mobiles = db.session.scalars(
        select(Identity.value).where(Identity.customer_id == vip, Identity.type == "mobile")
    ).all()
    assert sorted(mobiles) == ["13900000001", "13900000002", "13900000003"]
    assert [(c["kind"], c["value"], c["record"]) for c in result.conflicts] == [
        ("limit", "13900000004", "M4")
    ]
    assert db.session.scalar(select(Order.customer_id).where(Order.external_id == "M4")) == vip
    assert (reads["json"] > 0) == sqlite()


def test_an_uncommitted_batch_before_it_in_the_transaction_is_seen(workspace, reads):
    """A snapshot reader would not see the first batch's customer (it is not committed), so
    none is used: the second batch finds the customer through the session."""
    first = ingest.apply(
        db.session, workspace.id, [order("E1", identities=[("yz_open_id", "yz-e")])], commit=False
    )
    assert first.counts["customers"] == {"created": 1}
    batch = filler(CHUNK + 1, "a") + [order("E2", identities=[("yz_open_id", "yz-e")])]

    ingest.apply(db.session, workspace.id, batch)

    customer = dict(db.session.execute(select(Order.external_id, Order.customer_id)).all())
    assert customer["E1"] == customer["E2"]
    # + 1: the first buyer's consignee mobile (every filler buyer shares it: not attached again)
    assert db.session.scalar(select(func.count()).select_from(Identity)) == CHUNK + 3
    assert reads["json"] == 0


def test_a_failed_batch_leaves_no_reader_behind(workspace):
    batch = filler(2 * CHUNK + 3, "a")
    batch[-1].amount_total = 12.5  # a float: refused in the last chunk
    with pytest.raises(Exception, match="money must not be a float"):
        ingest.apply(db.session, workspace.id, batch)
    assert reader_threads() == []
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_identity_values_of_any_text_are_found_by_the_reader(workspace, reads):
    """The snapshot reader sends the values as JSON and SQLite decodes them: quotes,
    backslashes, non-Latin text and a trailing space inside must come back unchanged."""
    odd = ['o"quote', "back\\slash", "昵称-张三", "tab\tinside x", "emoji-🙂"]
    ingest.apply(
        db.session,
        workspace.id,
        [order(f"K{i}", identities=[("nickname", v)]) for i, v in enumerate(odd)],
    )
    batch = filler(CHUNK, "a")
    batch += [order(f"L{i}", identities=[("nickname", v)]) for i, v in enumerate(odd)]

    result = ingest.apply(db.session, workspace.id, batch)

    assert result.counts["customers"] == {"created": CHUNK}  # the fillers only
    customer = dict(db.session.execute(select(Order.external_id, Order.customer_id)).all())
    assert [customer[f"L{i}"] for i in range(len(odd))] == [
        customer[f"K{i}"] for i in range(len(odd))
    ]
    assert (reads["json"] > 0) == sqlite()
