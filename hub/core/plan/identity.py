"""Identity resolution (Y8, I4, S5, H1), in memory: what it needs to know of the database it
asks through :class:`Lookups`; merges are ``hub.core.merge``.

A record carries its identities in the source's priority order. The customer of the
highest-priority identity already known is the match; identities still free are attached to
it; identities owned by another customer are conflicts: reported, never merged silently.
Junk values are blocked and each identity type has a per-customer limit. Merges happen only
on request (admin or API) and every merge is recorded in a ledger that can undo it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from hub.core.normalise import InvalidValue, junk_reason, normalise_identity
from hub.core.plan.contacts import attach_contacts
from hub.core.records import CustomerRecord

# How many identities of one type a customer may hold; others default to DEFAULT_LIMIT.
IDENTITY_LIMITS: dict[str, int] = {
    "customer_id": 1,
    "wx_unionid": 1,
    "yz_open_id": 3,
    "wx_openid": 10,
    "mobile": 3,
    "email": 5,
    "nickname": 5,
}
DEFAULT_LIMIT = 10


class Pending(Protocol):
    """An answer now or later: a future, or :class:`Ready`."""

    def result(self) -> Any: ...


class Ready:
    """A result already at hand, with the ``result()`` of a future."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class Lookups(NamedTuple):
    """What the resolver asks the database, as two functions a backend provides.

    ``owners(type, values)``: the (value, owning customer id) pairs of the identities of
    ``type`` that exist among ``values``, as a :class:`Pending` (so a backend may answer on a
    thread of its own while the caller goes on). For ``customer_id`` the value is the
    customer's own id, and its owner the customer it was merged into, if any.
    ``counts(customer_ids)``: (customer id, type, how many) of the identities they hold.
    """

    owners: Callable[[str, Iterable[str]], Pending]
    counts: Callable[[set[int]], Iterable[tuple[int, str, int]]]


@dataclass(slots=True)
class Resolution:
    """``customer`` is an existing id (int) or a new customer's key (str "new:N")."""

    customer: int | str
    attach: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    is_new: bool = False
    suggestions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Prefetch:
    """Owners asked for by ``Resolver.start_prefetch``, for ``finish_prefetch``."""

    people: list[Sequence[tuple[str, str]]]
    owners: list[tuple[str, dict[str, tuple[str, str]], Pending]]


class ResolutionFailed(Exception):
    """The record cannot be matched; the message names the identity and the rule."""


def clean_identities(
    identities: Iterable[tuple[str, str]],
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """Normalise, drop duplicates and junk. Returns (identities, blocked reports)."""
    out: list[tuple[str, str]] = []
    blocked: list[dict[str, Any]] = []
    for item in identities:
        type_, raw = item
        try:
            value = normalise_identity(type_, raw)
        except InvalidValue as exc:
            blocked.append({"kind": "invalid", "type": type_, "value": raw, "reason": str(exc)})
            continue
        reason = junk_reason(type_, value)
        if reason:
            blocked.append({"kind": "blocked", "type": type_, "value": value, "reason": reason})
            continue
        # A value already in its normal form keeps its pair (no new tuple per identity).
        pair = item if value is raw and type(item) is tuple else (type_, value)
        if pair not in out:  # a record holds a handful of identities: a list beats a set
            out.append(pair)
    return out, blocked


class Resolver:
    """Resolves many records against one workspace with a handful of lookups.

    Call ``prefetch`` with the identities of the records (or ``start_prefetch`` and, later,
    ``finish_prefetch``), then ``resolve`` per record; the resolver remembers what earlier
    records of the batch created or attached. It reads nothing itself: it asks ``lookups``
    (:class:`Lookups`), which may answer later, so the caller can go on between
    ``start_prefetch`` and ``finish_prefetch``. ``lookups`` may be replaced between prefetches.
    """

    def __init__(
        self,
        workspace_id: int,
        lookups: Lookups,
        *,
        on_conflict: str = "drop",
        limits: dict[str, int] | None = None,
    ) -> None:
        self.workspace_id = workspace_id
        self.lookups = lookups
        self.on_conflict = on_conflict
        self.limits = {**IDENTITY_LIMITS, **(limits or {})}
        self.owner: dict[tuple[str, str], int | str] = {}
        self.held: dict[tuple[int | str, str], int] = {}
        self.known_customers: set[int] = set()
        self.asked: set[tuple[str, str]] = set()  # identities whose owner was looked up
        self._new = 0

    def prefetch(self, people: Iterable[Sequence[tuple[str, str]]]) -> None:
        """Load the owners of the records' identities (each record's cleaned identities) and
        the identity counts of the customers that may receive new ones."""
        self.finish_prefetch(self.start_prefetch(people))

    def start_prefetch(self, people: Iterable[Sequence[tuple[str, str]]]) -> Prefetch:
        """Ask for the owners of the identities not looked up yet."""
        people = list(people)
        wanted = set(chain.from_iterable(people))
        wanted -= self.asked
        self.asked |= wanted
        # By type, each value with its pair as the record holds it: the owners are keyed by
        # these very tuples, so a record's lookup finds its own key by identity.
        by_type: defaultdict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
        for pair in wanted:
            by_type[pair[0]][pair[1]] = pair
        return Prefetch(
            people, [(t, pairs, self.lookups.owners(t, pairs)) for t, pairs in by_type.items()]
        )

    def finish_prefetch(self, prefetch: Prefetch) -> None:
        """Take the owners asked for, then load the identity counts of the customers that may
        receive one: those of a record with an identity nobody holds. (A customer met later
        with a free identity has its counts loaded when it first receives one.)"""
        owner = self.owner
        free: list[tuple[str, str]] = []
        for type_, pairs, rows in prefetch.owners:
            found = rows.result()
            if type_ == "customer_id":  # found by the number, which may be written otherwise
                owner.update(((type_, value), cid) for value, cid in found)
                continue
            keys = map(pairs.pop, map(itemgetter(0), found))
            owner.update(zip(keys, map(itemgetter(1), found), strict=True))
            free += pairs.values()
        if not free:
            return
        free_pairs = set(free)
        get = owner.get
        receiving: set[int] = set()
        for identities in prefetch.people:
            if not free_pairs.isdisjoint(identities):
                receiving.update(o for pair in identities if type(o := get(pair)) is int)
        self._prefetch_counts(receiving - self.known_customers)

    def _prefetch_counts(self, customer_ids: set[int]) -> None:
        if not customer_ids:
            return
        for cid, type_, n in self.lookups.counts(customer_ids):
            self.held[(cid, type_)] = n
        self.known_customers |= customer_ids

    def resolve(
        self,
        record: CustomerRecord,
        *,
        create: bool = True,
        cleaned: tuple[list[tuple[str, str]], list[dict[str, Any]]] | None = None,
        contacts: Sequence[tuple[str, str]] = (),
    ) -> Resolution:
        """Match one record; raises ResolutionFailed. Updates the batch's memory on success.

        ``cleaned`` is ``clean_identities(record.identities)`` when the caller already has it.
        ``contacts`` (``hub.core.plan.contacts``) are weak: never matched by when the record
        has identities of its own.
        """
        identities, blocked = cleaned or clean_identities(record.identities)
        if not identities and contacts:
            identities, contacts = list(contacts), ()
        conflicts = list(blocked)
        owners = list(map(self.owner.get, identities))
        matched: int | str | None = None
        for (type_, value), owner in zip(identities, owners, strict=True):
            if owner is not None:
                matched = owner
                break
            if type_ == "customer_id":
                raise ResolutionFailed(f"customer id {value} does not exist")
        is_new = matched is None
        known = all(pair in self.owner for pair in contacts)
        if matched is not None and owners.count(matched) == len(owners) and known:
            # A known buyer whose every identity is already this customer's: nothing to attach
            # and nothing in conflict (the common case of a repeat buyer).
            return Resolution(customer=matched, conflicts=conflicts)
        if is_new:
            if not create:
                raise ResolutionFailed("no existing customer matches " + _describe(identities))
            if not identities:
                raise ResolutionFailed("no usable identity: " + _describe_blocked(blocked))
            self._new += 1
            matched = f"new:{self._new}"
        assert matched is not None
        attach, more = self._plan_attach(matched, identities)
        conflicts.extend(more)
        if self.on_conflict == "fail" and any(c["kind"] == "conflict" for c in more):
            raise ResolutionFailed("; ".join(c["reason"] for c in more if c["kind"] == "conflict"))
        for type_, value in attach:
            self.owner[(type_, value)] = matched
            self.held[(matched, type_)] = self.held.get((matched, type_), 0) + 1
        res = Resolution(customer=matched, attach=attach, conflicts=conflicts, is_new=is_new)
        if contacts:
            self.ensure_counts(matched)
            attach_contacts(self.owner, self.held, res, contacts)
        return res

    def ensure_counts(self, customer: int | str) -> None:
        """Load the identity counts of a stored customer not met before."""
        if type(customer) is int and customer not in self.known_customers:
            self._prefetch_counts({customer})

    def _plan_attach(
        self, matched: int | str, identities: Sequence[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        attach: list[tuple[str, str]] = []
        conflicts: list[dict[str, Any]] = []
        adding: dict[str, int] = {}
        for type_, value in identities:
            if type_ == "customer_id":
                continue
            owner = self.owner.get((type_, value))
            if owner == matched:
                continue
            if owner is not None:
                conflicts.append(
                    {
                        "kind": "conflict",
                        "type": type_,
                        "value": value,
                        "customer": owner,
                        "matched": matched,
                        "reason": f"{type_} {value} belongs to another customer ({owner})",
                    }
                )
                continue
            self.ensure_counts(matched)  # not foreseen by prefetch (or none was made)
            limit = self.limits.get(type_, DEFAULT_LIMIT)
            if self.held.get((matched, type_), 0) + adding.get(type_, 0) >= limit:
                conflicts.append(
                    {
                        "kind": "limit",
                        "type": type_,
                        "value": value,
                        "reason": f"customer already holds {limit} {type_} identities (limit)",
                    }
                )
                continue
            attach.append((type_, value))
            adding[type_] = adding.get(type_, 0) + 1
        return attach, conflicts


def _describe(identities: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{t}={v}" for t, v in identities) or "(no identities)"


def _describe_blocked(blocked: list[dict[str, Any]]) -> str:
    return "; ".join(b["reason"] for b in blocked) or "the record has no identities"
