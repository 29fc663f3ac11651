"""The workspace's event stream (issue 25): every event the core wrote, newest first.

Filters: ``type`` (one or more, comma-separated), ``customer_id``, ``source`` (a source's key or
name, either case), ``from`` / ``to`` (an inclusive range of event times, ISO-8601 with an
offset or a date: a whole day in the workspace's zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Select, func, select

from hub.models import Event
from hub.queries.orders import ReversedRange
from hub.queries.paging import source_spellings, text_arg
from hub.services import parsing
from hub.services.customers import N_


@dataclass(frozen=True)
class EventFilter:
    types: tuple[str, ...] = ()
    customer_id: int | None = None
    source: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def from_args(cls, args: Any, tz: tzinfo = UTC) -> EventFilter:
        """From the query arguments; ValidationFailed naming the argument it cannot take."""
        start = parsing.moment(args.get("from"), "from", tz=tz)
        end = parsing.moment(args.get("to"), "to", end=True, tz=tz)
        if start and end and start > end:
            raise ReversedRange(
                N_("The date range is reversed: %(start)s (%(a)s) is after %(end)s (%(b)s). "
                   "Swap the two dates."),
                field="from", start="from", end="to",
                a=args.get("from").strip(), b=args.get("to").strip(),
            )  # fmt: skip
        types = (text_arg(args, "type") or "").split(",")
        return cls(
            types=tuple(dict.fromkeys(t.strip() for t in types if t.strip())),
            customer_id=parsing.record_id(args.get("customer_id"), "customer_id"),
            source=text_arg(args, "source"),
            start=start,
            end=end,
        )


def search(workspace_id: int, f: EventFilter) -> Select[Any]:
    """The workspace's events matching ``f``, newest first (ties: the last written first)."""
    stmt = select(Event).where(Event.workspace_id == workspace_id)
    if f.types:
        stmt = stmt.where(Event.type.in_(f.types))
    if f.customer_id is not None:
        stmt = stmt.where(Event.customer_id == f.customer_id)
    if f.source:
        stmt = stmt.where(func.lower(Event.source).in_(source_spellings(f.source)))
    if f.start:
        stmt = stmt.where(Event.occurred_at >= f.start)
    if f.end:
        stmt = stmt.where(Event.occurred_at <= f.end)
    return stmt.order_by(Event.occurred_at.desc(), Event.id.desc())
