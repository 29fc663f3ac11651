"""The resolver plans in memory: what it knows of the database it asks through two lookup
functions (``Lookups``), so its rules run here without any database (Y8, X4)."""

from __future__ import annotations

from collections.abc import Iterable

from hub.core.plan.identity import Lookups, Ready, Resolver
from hub.core.records import CustomerRecord


def lookups(owners: dict[tuple[str, str], int], asked: list[str]) -> Lookups:
    def owner_of(type_: str, values: Iterable[str]) -> Ready:
        asked.append(type_)
        return Ready([(v, owners[(type_, v)]) for v in values if (type_, v) in owners])

    def counts(customer_ids: set[int]) -> list[tuple[int, str, int]]:
        held: dict[tuple[int, str], int] = {}
        for (type_, _), cid in owners.items():
            if cid in customer_ids:
                held[(cid, type_)] = held.get((cid, type_), 0) + 1
        return [(cid, type_, n) for (cid, type_), n in held.items()]

    return Lookups(owner_of, counts)


def person(*identities: tuple[str, str]) -> CustomerRecord:
    return CustomerRecord(identities=list(identities))


def test_y8_known_identity_wins_free_ones_attach_and_a_taken_one_is_a_conflict():
    asked: list[str] = []
    resolver = Resolver(1, lookups({("yz_open_id", "a"): 7, ("wx_unionid", "u"): 9}, asked))
    record = person(("yz_open_id", "a"), ("mobile", "13912345678"), ("wx_unionid", "u"))
    resolver.prefetch([[("yz_open_id", "a"), ("mobile", "13912345678"), ("wx_unionid", "u")]])
    res = resolver.resolve(record)
    assert res.customer == 7 and not res.is_new
    assert res.attach == [("mobile", "13912345678")]
    assert [(c["kind"], c["customer"]) for c in res.conflicts] == [("conflict", 9)]
    assert sorted(asked) == ["mobile", "wx_unionid", "yz_open_id"]


def test_x4_a_new_buyer_is_remembered_within_the_batch_and_limits_count_across_records():
    resolver = Resolver(1, lookups({}, []), limits={"mobile": 1})
    first = resolver.resolve(person(("yz_open_id", "b"), ("mobile", "13912345601")))
    again = resolver.resolve(person(("yz_open_id", "b"), ("mobile", "13912345602")))
    assert first.is_new and again.customer == first.customer
    assert [c["kind"] for c in again.conflicts] == ["limit"]
