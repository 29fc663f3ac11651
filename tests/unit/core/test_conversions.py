"""The ingest's raw-path conversions: remembered money and times keep refusing bad input, and
JSON columns get one text whichever path writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hub.core.upsert import _Memo
from hub.models.types import json_text, money_cents, sqlite_utc_text

SHANGHAI = timezone(timedelta(hours=8))


def test_remembered_money_still_refuses_a_float_equal_to_a_known_amount():
    memo = _Memo(money_cents, Decimal)
    assert memo.column([Decimal("5.00"), Decimal("0.01")]) == (500, 1)
    with pytest.raises(TypeError, match="float"):
        memo.column([Decimal("1.00"), 5.0])  # 5.0 == Decimal("5.00"), but floats are refused


def test_remembered_times_still_refuse_a_naive_datetime():
    memo = _Memo(sqlite_utc_text, datetime)
    aware = datetime(2026, 1, 1, 8, 0, tzinfo=SHANGHAI)
    assert memo.column([aware]) == ("2026-01-01 00:00:00.000000",)
    with pytest.raises(ValueError, match="naive"):
        memo.column([aware, datetime(2026, 1, 1, 0, 0)])


def test_one_instant_in_two_zones_is_one_stored_text():
    memo = _Memo(sqlite_utc_text, datetime)
    utc = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert memo.column([utc, utc.astimezone(SHANGHAI)]) == ("2026-01-01 00:00:00.000000",) * 2


def test_a_full_memo_starts_over_and_stays_right():
    memo = _Memo(money_cents, Decimal, size=3)
    values = [Decimal(f"{n}.50") for n in range(10)]
    assert memo.column(values[:3]) == (50, 150, 250)
    assert memo.column(values[3:7]) == (350, 450, 550, 650)
    assert len(memo.done) == 4
    assert memo.column([Decimal("1.005")]) == (101,)  # half up, like the column type


def test_json_text_is_compact_utf8_and_falls_back_for_huge_ints():
    assert json_text({"name": "张三", 7: [1, 2]}) == '{"name":"张三","7":[1,2]}'
    huge = {"id": 2**70}
    assert json.loads(json_text(huge)) == huge
    with pytest.raises(TypeError):
        json_text({"amount": Decimal("1.00")})
