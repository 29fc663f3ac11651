"""Deleted customers stay deleted (H3), in memory: a deleted customer's identities are kept as
digests of (type, value) per workspace; a record carrying one of them is a buyer the merchant
deleted, so it is taken without a contact (its orders are stored with no customer)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def digest(type_: str, value: str) -> str:
    """The tombstone of one normalised identity (the value itself is not kept)."""
    return hashlib.sha256(f"{type_}\x00{value}".encode()).hexdigest()


def digests(identities: Iterable[tuple[str, str]]) -> set[str]:
    return {digest(t, v) for t, v in identities}


class Tombstones:
    """The workspace's tombstones for one batch; empty (the common case) costs one query and
    no hashing at all."""

    __slots__ = ("known",)

    def __init__(self, known: frozenset[str]) -> None:
        self.known = known

    def __bool__(self) -> bool:
        return bool(self.known)

    def buried(self, identities: Iterable[tuple[str, str]]) -> bool:
        """True when any of the (normalised) identities belonged to a deleted customer."""
        known = self.known
        return bool(known) and any(digest(t, v) in known for t, v in identities)

    def living(self, identities: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The identities that did not belong to a deleted customer."""
        if not self.known:
            return identities
        return [p for p in identities if digest(*p) not in self.known]
