"""Identity resolution (Y8, I4, S5, H1) and the merge ledger (X4).

A record carries its identities in the source's priority order. The customer of the
highest-priority identity already known is the match; identities still free are attached to
it; identities owned by another customer are conflicts: reported, never merged silently.
Junk values are blocked and each identity type has a per-customer limit. Merges happen only
on request (admin or API) and every merge is recorded in a ledger that can undo it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.core.errors import Conflict, NotFound
from hub.core.normalise import InvalidValue, junk_reason, normalise_identity
from hub.core.records import CustomerRecord
from hub.core.upsert import Ready, SnapshotReader, count_by, fetch_by
from hub.models import (
    Customer,
    CustomerTag,
    Event,
    GroupMember,
    Identity,
    MergeLedger,
    Order,
    utcnow,
)

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
CHUNK = 500


@dataclass(slots=True)
class Resolution:
    """``customer`` is an existing id (int) or a new customer's key (str "new:N")."""

    customer: int | str
    attach: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    is_new: bool = False


@dataclass(slots=True)
class Prefetch:
    """Owners asked for by ``Resolver.start_prefetch``, for ``finish_prefetch``."""

    people: list[Sequence[tuple[str, str]]]
    owners: list[tuple[str, dict[str, tuple[str, str]], Ready | Future[Any]]]


class _Rekeyed:
    """Customer ids found, as the (value, owner) pairs of the ``customer_id`` identity."""

    def __init__(self, rows: Future[Any]) -> None:
        self.rows = rows

    def result(self) -> list[tuple[str, int]]:
        return [(str(cid), owner) for cid, owner in self.rows.result()]


def _json_list(values: Iterable[Any]) -> str:
    return orjson.dumps(list(values)).decode()


# The snapshot reader's queries (SQLite): one JSON array each.
_OWNERS_SQL = (
    "SELECT json_group_array(json_array(value, customer_id)) FROM identities "
    "WHERE workspace_id = ? AND type = ? AND value IN (SELECT value FROM json_each(?))"
)
_CUSTOMER_IDS_SQL = (
    "SELECT json_group_array(json_array(id, coalesce(merged_into_id, id))) FROM customers "
    "WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))"
)
_COUNTS_SQL = (
    "SELECT json_group_array(json_array(customer_id, type, n)) FROM ("
    "SELECT customer_id, type, count(*) AS n FROM identities "
    "WHERE customer_id IN (SELECT value FROM json_each(?)) GROUP BY customer_id, type)"
)


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
    """Resolves many records against one workspace with a handful of queries.

    Call ``prefetch`` with the identities of the records (or ``start_prefetch`` and, later,
    ``finish_prefetch``), then ``resolve`` per record; the resolver remembers what earlier
    records of the batch created or attached. With a ``reader`` (a
    :class:`hub.core.upsert.SnapshotReader`) the queries run on its thread, so the caller can go
    on between ``start_prefetch`` and ``finish_prefetch``.
    """

    def __init__(
        self,
        session: Session,
        workspace_id: int,
        *,
        on_conflict: str = "drop",
        limits: dict[str, int] | None = None,
        reader: SnapshotReader | None = None,
    ) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.on_conflict = on_conflict
        self.limits = {**IDENTITY_LIMITS, **(limits or {})}
        self.reader = reader
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
            people, [(t, pairs, self._owners(t, pairs)) for t, pairs in by_type.items()]
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

    def _owners(self, type_: str, values: Iterable[str]) -> Ready | Future[Any]:
        """(value, owning customer) of the identities of ``type_`` that exist."""
        ws = self.workspace_id
        if type_ == "customer_id":  # the value is the customer's own id (a merged one's heir)
            ids = sorted({int(v) for v in values if v.isascii() and v.isdigit()})
            if self.reader is not None:
                return _Rekeyed(self.reader.json(_CUSTOMER_IDS_SQL, (ws, _json_list(ids))))
            cust = Customer.__table__.c
            rows = []
            for i in range(0, len(ids), CHUNK):
                rows += self.session.execute(
                    select(cust.id, cust.merged_into_id).where(
                        cust.workspace_id == ws, cust.id.in_(ids[i : i + CHUNK])
                    )
                )
            return Ready([(str(cid), merged_into or cid) for cid, merged_into in rows])
        if self.reader is not None:
            return self.reader.json(_OWNERS_SQL, (ws, type_, _json_list(values)))
        table = Identity.__table__
        columns = ["value", "customer_id"]
        return Ready(
            fetch_by(self.session, table, columns, "value", values, named=False, workspace_id=ws,
                     type=type_)
        )  # fmt: skip

    def _prefetch_counts(self, customer_ids: set[int]) -> None:
        if not customer_ids:
            return
        if self.reader is not None:
            counts = self.reader.json(_COUNTS_SQL, (_json_list(customer_ids),)).result()
        else:
            counts = count_by(self.session, Identity.__table__, "customer_id", "type", customer_ids)
        for cid, type_, n in counts:
            self.held[(cid, type_)] = n
        self.known_customers |= customer_ids

    def resolve(
        self,
        record: CustomerRecord,
        *,
        create: bool = True,
        cleaned: tuple[list[tuple[str, str]], list[dict[str, Any]]] | None = None,
    ) -> Resolution:
        """Match one record; raises ResolutionFailed. Updates the batch's memory on success.

        ``cleaned`` is ``clean_identities(record.identities)`` when the caller already has it.
        """
        identities, blocked = cleaned or clean_identities(record.identities)
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
        if not is_new and owners.count(matched) == len(owners):
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
        return Resolution(customer=matched, attach=attach, conflicts=conflicts, is_new=is_new)

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
            if type(matched) is int and matched not in self.known_customers:
                self._prefetch_counts({matched})  # not foreseen by prefetch (or none was made)
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


# ---------------------------------------------------------------- merge ledger (X4)

MOVABLE = (
    ("identities", Identity),
    ("orders", Order),
    ("events", Event),
)


def merge(
    session: Session,
    workspace_id: int,
    keep_id: int,
    merge_id: int,
    *,
    reason: str,
    actor: str | None = None,
    limits: dict[str, int] | None = None,
) -> MergeLedger:
    """Move everything of ``merge_id`` onto ``keep_id`` and record it; refuses over-limit merges."""
    if keep_id == merge_id:
        raise Conflict("a customer cannot be merged into itself")
    keep, gone = (_customer(session, workspace_id, cid) for cid in (keep_id, merge_id))
    if keep.merged_into_id or gone.merged_into_id:
        raise Conflict("one of the customers was already merged into another")
    _check_merge_limits(session, keep_id, merge_id, {**IDENTITY_LIMITS, **(limits or {})})
    moved: dict[str, Any] = {}
    for name, model in MOVABLE:
        ids = list(session.scalars(select(model.id).where(model.customer_id == merge_id)))
        moved[name] = ids
        if ids:
            session.execute(update(model).where(model.id.in_(ids)).values(customer_id=keep_id))
    moved["tags"] = _move_links(session, CustomerTag, "tag_id", keep_id, merge_id)
    moved["groups"] = _move_links(session, GroupMember, "group_id", keep_id, merge_id)
    moved["customer"] = {
        "activity_score": gone.activity_score,
        "keep_score_before": keep.activity_score,
    }
    keep.activity_score += gone.activity_score
    gone.merged_into_id = keep_id
    entry = MergeLedger(
        workspace_id=workspace_id,
        kept_id=keep_id,
        merged_id=merge_id,
        reason=reason,
        actor=actor,
        moved=moved,
    )
    session.add(entry)
    session.commit()
    return entry


def undo_merge(session: Session, workspace_id: int, ledger_id: int) -> None:
    """Put back exactly what the merge moved."""
    entry = session.get(MergeLedger, ledger_id)
    if entry is None or entry.workspace_id != workspace_id:
        raise NotFound(f"merge {ledger_id} not found")
    if entry.undone_at is not None:
        raise Conflict("this merge was already undone")
    for name, model in MOVABLE:
        ids = entry.moved.get(name) or []
        if ids:
            session.execute(
                update(model)
                .where(model.id.in_(ids), model.customer_id == entry.kept_id)
                .values(customer_id=entry.merged_id)
            )
    _restore_links(session, CustomerTag, "tag_id", entry, entry.moved.get("tags", {}))
    _restore_links(session, GroupMember, "group_id", entry, entry.moved.get("groups", {}))
    keep = _customer(session, workspace_id, entry.kept_id)
    gone = session.get(Customer, entry.merged_id)
    assert gone is not None
    keep.activity_score -= entry.moved.get("customer", {}).get("activity_score", 0)
    gone.merged_into_id = None
    entry.undone_at = utcnow()
    session.commit()


def _customer(session: Session, workspace_id: int, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        raise NotFound(f"customer {customer_id} not found")
    return customer


def _check_merge_limits(
    session: Session, keep_id: int, merge_id: int, limits: dict[str, int]
) -> None:
    rows = session.execute(
        select(Identity.type, func.count())
        .where(Identity.customer_id.in_([keep_id, merge_id]))
        .group_by(Identity.type)
    )
    for type_, n in rows:
        limit = limits.get(type_, DEFAULT_LIMIT)
        if n > limit:
            raise Conflict(
                f"merging would give one customer {n} {type_} identities (limit {limit}); "
                "remove some first"
            )


def _move_links(session: Session, model: Any, col: str, keep_id: int, merge_id: int) -> dict:
    """Re-point link rows; remember which were moved and which were dropped as duplicates."""
    theirs = set(session.scalars(select(getattr(model, col)).where(model.customer_id == merge_id)))
    ours = set(session.scalars(select(getattr(model, col)).where(model.customer_id == keep_id)))
    session.execute(model.__table__.delete().where(model.customer_id == merge_id))
    for key in theirs - ours:
        session.add(model(customer_id=keep_id, **{col: key}))
    return {"moved": sorted(theirs - ours), "shared": sorted(theirs & ours)}


def _restore_links(session: Session, model: Any, col: str, entry: MergeLedger, info: dict) -> None:
    moved, shared = info.get("moved", []), info.get("shared", [])
    if moved:
        session.execute(
            model.__table__.delete().where(
                model.customer_id == entry.kept_id, getattr(model, col).in_(moved)
            )
        )
    for key in [*moved, *shared]:
        session.add(model(customer_id=entry.merged_id, **{col: key}))
