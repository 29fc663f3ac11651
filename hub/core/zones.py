"""Workspace time zones: storage is UTC; what a person reads or types is in the workspace's zone.

One place for the three conversions the hub needs: a zone name checked (IANA, e.g.
"Asia/Shanghai"), an instant shown in a zone with its offset ("2026-11-14 20:33 (UTC+08:00)"),
and a calendar day of a zone as the UTC instants that bound it (filters, day buckets).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from hub.core.errors import ValidationFailed

DEFAULT_ZONE = "Asia/Shanghai"
FIELD = "time_zone"
MAX_NAME = 64


@lru_cache(maxsize=256)
def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo of an IANA name, in any case (None or "" is the default zone);
    ValidationFailed naming the field for anything else."""
    name = (name or "").strip() or DEFAULT_ZONE
    canonical = _names().get(name.lower()) if len(name) <= MAX_NAME else None
    if canonical is None:
        raise ValidationFailed(
            f"time_zone: {name[:MAX_NAME]!r} is not a time zone name; use an IANA name such as "
            "Asia/Shanghai, Europe/London or UTC",
            field=FIELD,
        )
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError):  # listed yet unreadable: refuse, not crash
        message = f"time_zone: {name!r} is not a time zone name"
        raise ValidationFailed(message, field=FIELD) from None


def valid_name(name: str | None) -> str:
    """The IANA spelling of ``name`` ("asia/shanghai" is "Asia/Shanghai"), once checked (the
    default when blank)."""
    return zone(name).key


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every IANA name by its lower case."""
    return {name.lower(): name for name in available_timezones() | {"UTC"}}


def names() -> list[str]:
    """Every zone name a workspace may take, sorted (for a form's choices)."""
    return sorted(_names().values())


def local(value: datetime, tz: tzinfo) -> datetime:
    """An aware instant as the wall time of ``tz`` (a naive one is taken as UTC, as stored)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz)


def offset_label(value: datetime) -> str:
    """'UTC+08:00' for an aware datetime (the offset it is shown in)."""
    offset = value.utcoffset() or timedelta()
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def shown(value: datetime, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``value`` as wall time of ``tz`` in ``fmt`` (no label)."""
    return local(value, tz).strftime(fmt)


def labelled(value: datetime, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """'2026-11-14 20:33 (UTC+08:00)': ``value`` in ``tz`` with the offset it is shown in."""
    shown_at = local(value, tz)
    return f"{shown_at.strftime(fmt)} ({offset_label(shown_at)})"


def day_start(day: date, tz: tzinfo) -> datetime:
    """The first instant (UTC) of the calendar ``day`` in ``tz``."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next day) of ``day`` in ``tz``, in UTC (a day of a
    DST change lasts 23 or 25 hours)."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)
