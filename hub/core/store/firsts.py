"""The first purchase (Y10's ``first_purchase`` event): once per customer per workspace, at the
customer's earliest purchase by time. A batch notes the purchases it records; ``record`` then
reads, for the customers hit, their first-purchase event (one row each) and, only for those
without one, their purchases, and writes the missing first purchases. An older order arriving
later takes the first purchase over: the event is moved to it (time, order, amount), and its
score is not counted twice. A replayed batch records no purchase, so nothing here."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hub.core.plan.rows import EVENT_COLUMNS
from hub.core.store.sql import fetch_by, insert_rows, update_many, write_behind
from hub.models import Event

FIRST_PURCHASE = "first_purchase"
_KEY = "first_purchase:{}"
# What a first purchase copies of its purchase event (EVENT_COLUMNS without the fixed ones).
_COPIED = ("order_id", "occurred_at", "amount", "source", "properties")


def dedupe_key(customer_id: int) -> str:
    return _KEY.format(customer_id)


class FirstPurchases:
    """The earliest purchase per customer among the event rows (EVENT_COLUMNS) noted."""

    def __init__(self, workspace_id: int) -> None:
        self.ws = workspace_id
        self.earliest: dict[int, tuple[Any, ...]] = {}

    def note(self, rows: list[tuple[Any, ...]]) -> None:
        earliest = self.earliest
        for row in rows:
            cid = row[1]
            if row[3] == "purchase" and cid is not None:
                seen = earliest.get(cid)
                if seen is None or row[4] < seen[4]:
                    earliest[cid] = row

    def record(
        self, session: Session, now: datetime, new_customers: Collection[int] = ()
    ) -> list[tuple[str, int | None]]:
        """Write the first purchases the noted purchases make; the (type, customer id) of the
        events recorded (an event moved to an older order is not recorded again).
        ``new_customers`` were created by this batch: their first is the batch's earliest, with
        nothing to read. The others' own first purchase is read by its unique key; only those
        without one (bought before first purchases were recorded, or merged) have their events
        read."""
        if not self.earliest:
            return []
        table = Event.__table__
        old = [cid for cid in self.earliest if cid not in new_customers]
        have: dict[int, tuple[int, datetime]] = {}
        keys = {dedupe_key(cid): cid for cid in old}
        for id_, key, when in fetch_by(
            session, table, ["id", "dedupe_key", "occurred_at"], "dedupe_key", keys,
            named=False, workspace_id=self.ws,
        ):  # fmt: skip
            have[keys[key]] = (id_, when)
        stored = self._stored(session, [cid for cid in old if cid not in have], have)
        moved = [
            {"id": have[cid][0], **dict(zip(_COPIED, _copied(row), strict=True))}
            for cid, row in self.earliest.items()
            if cid in have and row[4] < have[cid][1]
        ]
        update_many(session, table, moved)
        rows = []
        for cid, row in self.earliest.items():
            if cid in have:
                continue
            first = stored.get(cid)
            values = _copied(row) if first is None or row[4] <= first[1] else first
            order_id, *rest = values
            rows.append((self.ws, cid, order_id, FIRST_PURCHASE, *rest, dedupe_key(cid), now))
        if rows:
            with write_behind(session):  # as the batch's other events: multi-row statements
                insert_rows(session, table, EVENT_COLUMNS, rows)
        self.earliest = {}
        return [(FIRST_PURCHASE, row[1]) for row in rows]

    def _stored(
        self, session: Session, cids: list[int], have: dict[int, tuple[int, datetime]]
    ) -> dict[int, tuple[Any, ...]]:
        """Read the events of customers without a first purchase of their own key: a first
        purchase a merge brought goes into ``have``; else (order id, time, amount, source,
        properties) of their earliest stored purchase, for those whose earliest stored purchase
        is older than the batch's (the others take the batch's own). The events' ids and times
        are read first, the copied columns only for those older purchases: a customer met
        before its first order (a shop's customers read before its orders) has only the
        purchases this batch just wrote."""
        earliest: dict[int, tuple[int, datetime]] = {}
        for cid, id_, type_, when in fetch_by(
            session, Event.__table__, ["customer_id", "id", "type", "occurred_at"], "customer_id",
            cids, named=False, workspace_id=self.ws,
        ):  # fmt: skip
            if type_ == FIRST_PURCHASE:
                if cid not in have or when < have[cid][1]:
                    have[cid] = (id_, when)
            elif type_ == "purchase" and (cid not in earliest or when < earliest[cid][1]):
                earliest[cid] = (id_, when)
        older = {
            id_: cid
            for cid, (id_, when) in earliest.items()
            if cid not in have and when < self.earliest[cid][4]
        }
        out: dict[int, tuple[Any, ...]] = {}
        for id_, *values in fetch_by(
            session, Event.__table__, ["id", *_COPIED], "id", older, named=False,
            workspace_id=self.ws,
        ):  # fmt: skip
            out[older[id_]] = tuple(values)
        return out


def _copied(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """_COPIED of an event row (EVENT_COLUMNS)."""
    return (row[2], row[4], row[5], row[6], row[7])
