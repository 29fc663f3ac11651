"""Field-level checks shared by ``hub.core.checks``: each answers whether a value keeps the
record contract (``hub.core.records``) or, as a (field, what is wrong) fault, how it breaks it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

Fault = tuple[str, str] | None


def within(prefix: str, fault: tuple[str, str]) -> tuple[str, str]:
    """A nested record's fault, its field named from the order (``lines[1].unit_price``)."""
    return (f"{prefix}.{fault[0]}" if fault[0] else prefix), fault[1]


def platform_id(name: str, value: object) -> Fault:
    if type(value) is not str:
        return name, f"must be a string (a platform id), not {type(value).__name__}"
    if not value:
        return name, "must not be empty"
    return None


def source_key(rec: object) -> Fault:
    """The record's ``source`` and ``external_id``: platform ids, never empty."""
    return platform_id("source", getattr(rec, "source", None)) or platform_id(
        "external_id", getattr(rec, "external_id", None)
    )


def aware(value: object) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None


def not_aware(value: object) -> str:
    if isinstance(value, datetime):
        return f"must be timezone-aware, not the naive time {value.isoformat()}"
    return f"must be a timezone-aware datetime, not {type(value).__name__}"


def money(value: object) -> bool:
    return type(value) is Decimal


def not_money(value: object) -> str:
    if isinstance(value, float):
        return f"money must not be a float ({value!r}): use Decimal"
    return f"money must be a Decimal, not {type(value).__name__}"
