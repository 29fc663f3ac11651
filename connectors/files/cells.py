"""Parsing helpers for text cells: money, quantities and local times (Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
MONEY_NOISE = str.maketrans("", "", "元¥￥, \u00a0")


class CellError(ValueError):
    """A cell that breaks its column's rule; the message names the rule."""


def money(value: str, header: str) -> Decimal:
    text = value.translate(MONEY_NOISE)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CellError(f"{header}: {value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise CellError(f"{header}: {value!r} is not an amount of 0 or more")
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(f"{header}: {value!r} has more than 2 decimal places")
    return amount.quantize(Decimal("0.01"))


def quantity(value: str, header: str) -> int:
    text = value.strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit() or int(text) < 1:
        raise CellError(f"{header}: {value!r} is not a whole number of 1 or more")
    return int(text)


def local_time(value: str, header: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> datetime:
    """A 'YYYY-MM-DD HH:MM:SS' China time as an aware datetime."""
    try:
        return datetime.strptime(value.strip(), fmt).replace(tzinfo=CHINA)
    except ValueError:
        example = datetime(2022, 9, 14, 11, 3, 23).strftime(fmt)
        raise CellError(f"{header}: {value!r} is not a time like {example!r}") from None
