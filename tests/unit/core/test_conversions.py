"""The ingest's raw-path conversions: money in cents, times as UTC text, bad input refused, and
JSON columns get one text whichever path writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hub.models.types import json_text, money_cents, sqlite_utc_text

SHANGHAI = timezone(timedelta(hours=8))


def test_money_is_whole_cents_rounded_half_up_and_floats_are_refused():
    assert [money_cents(v) for v in (Decimal("5.00"), Decimal("0.01"), Decimal("1.005"))] == [
        500,
        1,
        101,
    ]
    assert money_cents(Decimal("-1.005")) == -101  # half up is away from zero
    with pytest.raises(TypeError, match="float"):
        money_cents(5.0)


def test_times_refuse_a_naive_datetime():
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 1, 1, 0, 0))


def test_one_instant_in_two_zones_is_one_stored_text():
    utc = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    texts = {sqlite_utc_text(utc), sqlite_utc_text(utc.astimezone(SHANGHAI))}
    assert texts == {"2026-01-01 00:00:00.000000"}


def test_json_text_is_compact_utf8_and_falls_back_for_huge_ints():
    assert json_text({"name": "张三", 7: [1, 2]}) == '{"name":"张三","7":[1,2]}'
    huge = {"id": 2**70}
    assert json.loads(json_text(huge)) == huge
    with pytest.raises(TypeError):
        json_text({"amount": Decimal("1.00")})
