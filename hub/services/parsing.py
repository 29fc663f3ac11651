"""One way to read what people and programs send as numbers, ids, pages, dates and JSON: query
arguments, form fields and request bodies. What cannot be taken is refused with ``Refused`` (a
ValidationFailed naming the argument: 400 in the API, the error page in the UI) before it reaches
Python's arithmetic or the database:

- numbers are ASCII digits: ``str.isdigit()`` is true for "²" and "①", which ``int()`` refuses,
  and ``int()`` takes "١٢" and " 12 ", which nobody sends on purpose;
- ids up to 2**31-1, the width of the id columns (INTEGER: 32 bits on PostgreSQL, which fails on
  a larger parameter, as SQLite does beyond 64 bits); other numbers within a signed 64-bit
  integer, and a page only as far as its offset stays within one;
- dates and times between 1900-01-01 and 2199-12-31 in UTC: 9999-12-31T23:59:59-14:00 is valid
  ISO-8601 but falls in the year 10000 in UTC, which Python cannot hold, and the dashboard's
  pandas holds only the years 1677 to 2262;
- JSON at most MAX_JSON_DEPTH levels deep and MAX_JSON_BYTES long, parsed without recursion in
  Python, and no NUL character in any text (PostgreSQL cannot store one).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import orjson

from hub.core import zones
from hub.services.customers import N_, Refused

INT64_MAX = 2**63 - 1
ID_MAX = 2**31 - 1
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024
_NUMBER = re.compile(r"-?[0-9]{1,19}")
# What a message calls an argument (its key stays the error's ``field``); translated where shown.
LABELS = {
    "interval_minutes": N_("Sync interval (minutes)"),
    "page": N_("Page"),
    "per_page": N_("Rows per page"),
    "limit": N_("Number of rows"),
    "store": N_("Store"),
    "connection_id": N_("Store"),
    "file": N_("File"),
    "start": N_("From"),
    "end": N_("To"),
}


def label(name: str) -> str:
    """The words for argument ``name`` (its English label, or the name itself)."""
    return LABELS.get(name, name)


def whole_number(
    value: Any, name: str, *, default: int | None = None, low: int = 0, high: int = INT64_MAX
) -> int | None:
    """``value`` (text of ASCII digits, or an int) as an int in [low, high]; ``default`` when
    it is absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    number = _number(value)
    if number is None or not low <= number <= high:
        raise Refused(
            N_("%(label)s: enter a whole number from %(low)s to %(high)s."),
            field=name, label=label(name), low=low, high=high,
        )  # fmt: skip
    return number


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if _NUMBER.fullmatch(text) else None


def record_id(value: Any, name: str) -> int | None:
    """An id argument (1 to ID_MAX), or None when absent."""
    return whole_number(value, name, low=1, high=ID_MAX)


def as_id(text: str) -> int | None:
    """``text`` as an id when it is one; None for anything else (never an error)."""
    number = _number(text)
    return number if number is not None and 1 <= number <= ID_MAX else None


def page_number(value: Any, per_page: int) -> int:
    """The ``page`` argument: 1 when absent; its offset fits in 64 bits."""
    return whole_number(value, "page", default=1, low=1, high=INT64_MAX // per_page) or 1


def paging(
    page: Any = None, per_page: Any = None, *, max_per_page: int = MAX_PER_PAGE
) -> tuple[int, int]:
    """Validated (page, per_page): page >= 1, 1 <= per_page <= max_per_page."""
    size = whole_number(per_page, "per_page", default=DEFAULT_PER_PAGE, low=1, high=max_per_page)
    size = size or DEFAULT_PER_PAGE
    return page_number(page, size), size


def day(value: str | None, name: str) -> date | None:
    """A YYYY-MM-DD argument between EARLIEST and LATEST, or None when absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = date.fromisoformat(text) if len(text) == 10 and text.isascii() else None
    except ValueError:
        parsed = None
    if parsed is None or not EARLIEST <= parsed <= LATEST:
        raise Refused(
            N_("%(label)s: enter a date as YYYY-MM-DD, from %(low)s to %(high)s."),
            field=name, label=label(name), low=EARLIEST.isoformat(), high=LATEST.isoformat(),
        )  # fmt: skip
    return parsed


def moment(value: str | None, name: str, *, end: bool = False, tz: tzinfo = UTC) -> datetime | None:
    """ISO-8601 with an offset, or a date: a whole day in ``tz``, the workspace's zone
    (``end`` takes its last instant). The instant lies between EARLIEST and LATEST; None when
    absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) == 10:
        first, after = zones.day_bounds(day(text, name), tz)  # type: ignore[arg-type]
        return after - timedelta(microseconds=1) if end else first
    parsed = _instant(text, name)
    if parsed.tzinfo is None:
        raise Refused(
            N_("%(label)s: add the time's offset from UTC (e.g. +08:00 or Z), or enter a date."),
            field=name, label=_label(name),
        )  # fmt: skip
    if not _in_range(parsed):
        raise _bad_time(name)
    return parsed


def _instant(text: str, name: str) -> datetime:
    try:
        if text.isascii():
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    raise _bad_time(name)


def _in_range(value: datetime) -> bool:
    low = datetime.combine(EARLIEST, time(), tzinfo=UTC)
    high = datetime.combine(LATEST, time.max, tzinfo=UTC)
    try:
        return low <= value <= high  # comparing aware times converts them to UTC
    except OverflowError:
        return False


# The date fields by their labels (the pages send since/until, the API from/to).
_LABELS = {"from": N_("From"), "since": N_("From"), "to": N_("To"), "until": N_("To")}


def _label(name: str) -> str:
    return _LABELS.get(name, name)


def _bad_time(name: str) -> Refused:
    return Refused(
        N_("%(label)s: enter a date such as 2024-05-01, or a time with its offset such as "
           "2024-05-01T08:00:00+08:00, from %(low)s to %(high)s."),
        field=name, label=_label(name), low=EARLIEST.isoformat(), high=LATEST.isoformat(),
    )  # fmt: skip


def json_value(data: bytes | str) -> Any:
    """Parse a JSON document within the limits above; ValueError saying which one it broke.
    orjson parses without recursion in Python (it stops at 1,024 levels by itself)."""
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"it is larger than {MAX_JSON_BYTES} bytes")
    value = orjson.loads(data)
    check_json(value)
    return value


def check_json(value: Any) -> None:
    """ValueError when ``value`` nests deeper than MAX_JSON_DEPTH or holds a NUL in a string."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("a string in it holds a NUL character")
            continue
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"it nests deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def has_nul(values: Any) -> str | None:
    """The first key of a multi-dict (query arguments, form fields) whose key or a value holds
    a NUL character, else None."""
    for key, value in values.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "")
    return None
