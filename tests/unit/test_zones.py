"""hub.core.zones and the spreadsheet cells read in a workspace's zone (issue 22.1)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.files.cells import CellError, local_time
from connectors.tmall import mapping as tmall
from hub.core import zones
from hub.core.errors import ValidationFailed
from hub.core.records import LineRecord

LONDON, SHANGHAI, NEW_YORK = (ZoneInfo(n) for n in ("Europe/London", "Asia/Shanghai",
                                                      "America/New_York"))  # fmt: skip


def test_zone_names_are_checked_and_the_default_is_shanghai() -> None:
    assert zones.zone(None).key == zones.zone("").key == "Asia/Shanghai"
    assert zones.valid_name(" Europe/London ") == "Europe/London"
    assert zones.zone("UTC").key == "UTC"
    assert zones.valid_name("asia/shanghai") == "Asia/Shanghai"  # as typed, the IANA spelling
    for bad in ("Mars/Olympus", "Shanghai", "+08:00", "../../etc/passwd", "x" * 300):
        with pytest.raises(ValidationFailed, match="time_zone") as caught:
            zones.zone(bad)
        assert caught.value.field == "time_zone"


def test_an_instant_is_shown_in_the_zone_with_its_offset() -> None:
    instant = datetime(2026, 11, 14, 12, 33, tzinfo=UTC)
    assert zones.shown(instant, SHANGHAI) == "2026-11-14 20:33"
    assert zones.offset_label(zones.local(instant, SHANGHAI)) == "UTC+08:00"
    assert zones.offset_label(zones.local(instant, NEW_YORK)) == "UTC-05:00"
    assert zones.offset_label(zones.local(instant, ZoneInfo("Asia/Kolkata"))) == "UTC+05:30"
    assert zones.shown(instant, LONDON) == "2026-11-14 12:33"


def test_a_day_of_a_zone_as_utc_bounds_including_dst_days() -> None:
    first, after = zones.day_bounds(date(2026, 11, 14), SHANGHAI)
    assert (first, after) == (datetime(2026, 11, 13, 16, tzinfo=UTC),
                              datetime(2026, 11, 14, 16, tzinfo=UTC))  # fmt: skip
    spring = zones.day_bounds(date(2026, 3, 29), LONDON)  # clocks go forward: 23 hours
    assert (spring[1] - spring[0]).total_seconds() == 23 * 3600


def test_a_cell_without_an_offset_is_wall_time_of_the_zone() -> None:
    assert local_time("2026-11-14 11:03:23", "Order Time", tz=SHANGHAI).astimezone(UTC) == (
        datetime(2026, 11, 14, 3, 3, 23, tzinfo=UTC)
    )
    assert local_time("2026-07-01 11:03:23", "Order Time", tz=LONDON).astimezone(UTC) == (
        datetime(2026, 7, 1, 10, 3, 23, tzinfo=UTC)
    )


def test_a_cell_with_an_offset_keeps_it() -> None:
    for text in ("2026-11-14 11:03:23+01:00", "2026-11-14T10:03:23Z"):
        parsed = local_time(text, "Order Time", tz=SHANGHAI)
        assert parsed.astimezone(UTC) == datetime(2026, 11, 14, 10, 3, 23, tzinfo=UTC), text
    with pytest.raises(CellError, match="Order Time: '14/11/2026' is not a time like"):
        local_time("14/11/2026", "Order Time", tz=SHANGHAI)


def test_tmall_report_times_are_read_in_the_zone_given() -> None:
    cells = {
        "订单编号": "T1", "订单状态": "交易成功", "收货地址": "浙江省 杭州市 西湖区 1号(310000)",
        "收货人姓名": "Li", "联系手机": "13800139000", "联系电话": "", "买家会员名": "li",
        "订单创建时间": "2026-11-14 23:30:00", "订单付款时间": "2026-11-14 23:31:00",
        "总金额": "10.00", "买家实际支付金额": "10.00", "店铺Id": "1", "店铺名称": "Shop",
    }  # fmt: skip
    line = LineRecord(external_id="T1-1", product_external_id="P1", sku_id="P1", name="Tea",
                      qty=1, unit_price=tmall.money("10.00", "x"),
                      total=tmall.money("10.00", "x"))  # fmt: skip
    order = tmall.parse_order(cells, [line], LONDON)
    assert order.ordered_at.astimezone(UTC) == datetime(2026, 11, 14, 23, 30, tzinfo=UTC)
    order = tmall.parse_order(cells, [line], SHANGHAI)
    assert order.ordered_at.astimezone(UTC) == datetime(2026, 11, 14, 15, 30, tzinfo=UTC)


def test_analysis_bounds_are_days_of_the_zone_even_when_dst_skips_midnight() -> None:
    from hub.analytics.sql import bound

    assert bound("2026-11-15", "sqlite", "Asia/Shanghai") == "2026-11-14 16:00:00.000000"
    assert bound("2026-11-15", "sqlite", None) == "2026-11-15 00:00:00.000000"  # UTC
    # Santiago's clocks skip 00:00-01:00 on 2026-09-06: the day starts at 01:00 (-03:00)
    assert bound("2026-09-06", "postgresql", "America/Santiago") == datetime(
        2026, 9, 6, 4, tzinfo=UTC
    )
