"""H3's tombstones in memory: digests of normalised identities, never the values."""

from hub.core.plan.tombstones import Tombstones, digest, digests


def test_h3_a_tombstone_is_a_digest_of_type_and_value_not_the_value():
    d = digest("email", "ann@shop.example")
    assert len(d) == 64 and "ann" not in d
    assert d != digest("mobile", "ann@shop.example")  # the type is part of it
    assert digests([("email", "a@b.example")] * 2) == {digest("email", "a@b.example")}


def test_h3_any_buried_identity_buries_the_record_and_living_ones_pass():
    stones = Tombstones(frozenset({digest("yz_open_id", "gone")}))
    assert stones and stones.buried([("email", "x@y.example"), ("yz_open_id", "gone")])
    assert not stones.buried([("yz_open_id", "alive")])
    assert stones.living([("mobile", "1"), ("yz_open_id", "gone")]) == [("mobile", "1")]


def test_h3_no_tombstones_is_false_and_hashes_nothing():
    empty = Tombstones(frozenset())
    pairs = [("email", "x@y.example")]
    assert not empty and not empty.buried(pairs) and empty.living(pairs) is pairs
