"""The ingest's raw-path conversions: money in cents, times as UTC text, bad input refused, and
JSON columns get one text whichever path writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hub.models.types import (
    json_text,
    money_cents,
    money_cents_many,
    sqlite_utc_text,
    sqlite_utc_texts,
)

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


def test_money_in_bulk_is_the_cents_of_one_by_one():
    values = [Decimal("5.00"), Decimal("1.005"), Decimal("-1.005"), Decimal("0"), Decimal("7")]
    values += [Decimal("12345678901234.565"), Decimal("0.004999")]
    assert money_cents_many(values) == [money_cents(v) for v in values]
    assert money_cents_many([Decimal("1.10"), None, "2.345", 3]) == [110, None, 235, 300]
    with pytest.raises(TypeError, match="float"):
        money_cents_many([Decimal("1.10"), 5.0])


def test_times_refuse_a_naive_datetime():
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 1, 1, 0, 0))


def test_one_instant_in_two_zones_is_one_stored_text():
    utc = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    texts = {sqlite_utc_text(utc), sqlite_utc_text(utc.astimezone(SHANGHAI))}
    assert texts == {"2026-01-01 00:00:00.000000"}


@pytest.mark.parametrize(
    "zone",
    [UTC, SHANGHAI, timezone(timedelta(hours=-3, minutes=-30)), ZoneInfo("America/New_York"),
     timezone(timedelta(hours=8, minutes=5, seconds=43))],  # an offset with seconds (LMT)
    ids=["utc", "shanghai", "newfoundland", "new-york", "lmt"],
)  # fmt: skip
def test_times_in_bulk_are_the_texts_of_one_by_one(zone):
    """The bulk path (one orjson call) gives exactly the per-value text: with and without
    microseconds, across a DST change, far past and future, with None among them."""
    start = datetime(2026, 3, 8, 1, 30, tzinfo=UTC)
    values = [start + timedelta(minutes=7 * i, microseconds=(i % 4) * 250_001) for i in range(80)]
    values += [datetime(1, 1, 2, 0, 0, 0, 5, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)]
    values = [v.astimezone(zone) for v in values]
    values[3] = values[40] = None
    assert sqlite_utc_texts(values) == [None if v is None else sqlite_utc_text(v) for v in values]


def test_whole_second_utc_times_in_bulk_are_the_texts_of_one_by_one():
    """The common column (whole seconds, UTC, none missing) is cut as one text; a single
    microsecond anywhere sends the column the long way, with the same result."""
    values = [datetime(2026, 3, 8, 1, 30, tzinfo=UTC) + timedelta(minutes=7 * i) for i in range(80)]
    values += [datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    expected = [sqlite_utc_text(v) for v in values]
    assert sqlite_utc_texts(values) == expected
    assert expected[-1] == "9999-12-31 23:59:59.000000"
    assert sqlite_utc_texts(values[:1]) == expected[:1]
    values[5] += timedelta(microseconds=1)
    assert sqlite_utc_texts(values) == [sqlite_utc_text(v) for v in values]


def test_times_in_bulk_refuse_a_naive_datetime_among_aware_ones():
    values = [datetime(2026, 1, 1, tzinfo=UTC), None, datetime(2026, 1, 1, 0, 0)]
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_texts(values)
    with pytest.raises(AttributeError):
        sqlite_utc_texts([datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01"])


def test_json_text_is_compact_utf8_and_falls_back_for_huge_ints():
    assert json_text({"name": "张三", 7: [1, 2]}) == '{"name":"张三","7":[1,2]}'
    huge = {"id": 2**70}
    assert json.loads(json_text(huge)) == huge
    with pytest.raises(TypeError):
        json_text({"amount": Decimal("1.00")})
