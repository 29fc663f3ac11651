"""Parsing helpers for text cells: money, quantities and local times (the workspace's zone).

Numbers are ASCII digits (full-width ones, as Chinese input methods type them, are taken as
such); anything else, like '²' (a digit to str.isdigit(), not to int()), fails its row."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
MONEY_NOISE = str.maketrans("０１２３４５６７８９．", "0123456789.", "元¥￥, \u00a0")
FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
AMOUNT = re.compile(r"(-?)([0-9]*)(?:\.([0-9]*))?")
MAX_AMOUNT_DIGITS = 12  # below a trillion: well inside the cents the database keeps
MAX_QUANTITY = 999_999_999  # inside the database's integer column
YEARS = (1900, 9998)  # a time outside them is a typo (and year 1 cannot be kept in UTC)


class CellError(ValueError):
    """A cell that breaks its column's rule; the message names the rule."""


def money(value: str, header: str) -> Decimal:
    match = AMOUNT.fullmatch(value.translate(MONEY_NOISE))
    if match is None or not (match[2] or match[3]):
        raise CellError(f"{header}: {value!r} is not an amount")
    sign, whole, cents = match[1], match[2], (match[3] or "").rstrip("0")
    if sign and (whole.strip("0") or cents):
        raise CellError(f"{header}: {value!r} is not an amount of 0 or more")
    if len(cents) > 2:
        raise CellError(f"{header}: {value!r} has more than 2 decimal places")
    if len(whole.lstrip("0")) > MAX_AMOUNT_DIGITS:
        raise CellError(f"{header}: {value!r} is more than {MAX_AMOUNT_DIGITS} digits of yuan")
    return Decimal(f"{whole or 0}.{cents}").quantize(Decimal("0.01"))


def quantity(value: str, header: str) -> int:
    text = value.strip().translate(FULL_WIDTH)
    if text.endswith(".0"):
        text = text[:-2]
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit() and digits) or int(digits[:10]) > MAX_QUANTITY:
        raise CellError(f"{header}: {value!r} is not a whole number from 1 to {MAX_QUANTITY:,}")
    return int(digits)


def local_time(
    value: str, header: str, fmt: str = "%Y-%m-%d %H:%M:%S", tz: tzinfo = CHINA
) -> datetime:
    """A 'YYYY-MM-DD HH:MM:SS' wall time of ``tz`` (the workspace's zone) as an aware datetime;
    a format holding an offset (%z) keeps the offset written in the cell."""
    text = value.strip().translate(FULL_WIDTH)
    try:
        parsed = datetime.strptime(text, fmt)
    except ValueError:
        parsed = _with_offset(text)
    if parsed is None:
        example = datetime(2022, 9, 14, 11, 3, 23).strftime(fmt)
        raise CellError(f"{header}: {value!r} is not a time like {example!r}") from None
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise CellError(f"{header}: {value!r} is not a time between {YEARS[0]} and {YEARS[1]}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def _with_offset(text: str) -> datetime | None:
    """An ISO 8601 time that carries its offset ('2026-11-14 11:03:23+08:00', '...Z'), else
    None: such a cell keeps the offset written in it."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00")) if text.isascii() else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None
