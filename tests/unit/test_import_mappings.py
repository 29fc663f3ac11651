"""Pure mappings of the three file connectors: no database, no files."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.customers import mapping as customers
from connectors.files import cells
from connectors.files.base import ImportContext
from connectors.files.cells import CellError
from connectors.sobot import mapping as sobot
from connectors.tmall import mapping as tmall
from hub.core.errors import ValidationFailed

CTX = ImportContext(custom_identities={"member_card": "会员卡号"}, custom_properties={"vip": ""})


def test_i2_mapping_suggested_from_english_and_chinese_headers():
    headers = ["姓名", "手机号码", "E-mail", "微信openid", "会员卡号", "VIP", "客户标签", "Other"]
    assert customers.suggest_mapping(headers, CTX) == {
        "姓名": "name", "手机号码": "mobile", "E-mail": "email", "微信openid": "identity:wx_openid",
        "会员卡号": "identity:member_card", "VIP": "property:vip", "客户标签": "tags",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("mapping", "message"),
    [({"A": "property:stage"}, "Column “A”: “Stage” is kept by the hub and cannot be imported"),
     ({"A": "identity:loyalty"}, "Column “A”: there is no custom field “loyalty”"),
     ({"A": "property:shoe"}, "Column “A”: there is no custom field “shoe”"),
     ({"A": "name"}, "Map at least one column to Customer id, Mobile, Email or an identity"),
     ({"Z": "mobile"}, "a column “Z” that is not in the file"),
     ({"A": "mobile", "B": "mobile"}, "columns “A” and “B” both go to “Mobile”")],
)  # fmt: skip
def test_i2_mapping_checked(mapping, message):
    with pytest.raises(ValidationFailed, match=message):
        customers.resolve_columns(["A", "B"], mapping, CTX)


def test_i1_i4_row_to_record_in_priority_order():
    cols = customers.resolve_columns(
        ["Email", "Mobile", "ID", "Card", "Tags", "VIP"],
        {"Email": "email", "Mobile": "mobile", "ID": "customer_id",
         "Card": "identity:member_card", "Tags": "tags", "VIP": "property:vip"},
        CTX,
    )  # fmt: skip
    rec = customers.map_row(["A@B.cn", "+86 138-0013-9000", "42", "C1", "x，y; z", "gold"], cols)
    assert rec.identities == [("customer_id", "42"), ("member_card", "C1"),
                              ("mobile", "13800139000"), ("email", "a@b.cn")]  # fmt: skip
    assert rec.tags == ["x", "y", "z"] and rec.properties == {"vip": "gold"}
    with pytest.raises(customers.RowError, match="^ID: customer id 'x1' is not a number"):
        customers.map_row(["", "", "x1", "", "", ""], cols)
    with pytest.raises(customers.RowError, match="^Email: email 'nope'"):
        customers.map_row(["nope", "", "", "C", "", ""], cols)


def test_i4_same_key_same_digest():
    cols = customers.resolve_columns(["M"], {"M": "mobile"}, CTX)
    a = customers.row_keys(customers.map_row(["+8613800139000"], cols))
    b = customers.row_keys(customers.map_row(["138 0013 9000"], cols))
    assert a == b and len(a) == 1


def test_i7_tmall_cell_quirks():
    assert tmall.text('="1930679858170647"') == "1930679858170647"
    assert tmall.text("'13800139000") == "13800139000" and tmall.text("=12") == "12"
    consignee, postcode = tmall.split_address("浙江省 杭州市 西湖区 文三路 1号（310000）")
    assert (consignee.province, consignee.district, consignee.address, postcode) == (
        "浙江省", "西湖区", "文三路 1号", "310000")  # fmt: skip
    assert tmall.status_of("卖家已发货,等待买家确认") == "shipped"
    with pytest.raises(tmall.NotTaken):
        tmall.status_of("交易关闭")


def _sobot_index() -> dict[str, int]:
    return sobot.header_index([en + "*" for en, _cn, _r in sobot.COLUMNS.values()])


def test_s3_s5_sobot_row_parsed():
    values = {"order_no": "SO-1", "order_source": "小红书", "order_status": "Dealed",
              "order_time": "2022-09-14 11:03:23", "store_id": "ST", "buyer_mobile": "13800139000",
              "buyer_unionid": "u1", "buyer_customer_id": "Z9", "product_id": "P",
              "sku": "P-S", "quantity": "3", "unit_price": "1.10"}  # fmt: skip
    cells = [values.get(field, "") for field in sobot.COLUMNS]
    row = sobot.parse_row(cells, _sobot_index())
    assert (row.source, row.status, row.store_id) == ("Xiaohongshu", "completed", "ST")
    assert row.buyer.identities == [("sobot_id", "Z9"), ("mobile", "13800139000"),
                                    ("wx_unionid", "u1")]  # fmt: skip
    assert row.line.total == Decimal("3.30") and row.line.external_id == "P-S"
    cells[list(sobot.COLUMNS).index("unit_price")] = "1.005"
    with pytest.raises(CellError, match="Unit Price: '1.005' has more than 2 decimal places"):
        sobot.parse_row(cells, _sobot_index())


@pytest.mark.parametrize(
    ("value", "reason"),
    [("²", "'²' is not a whole number from 1 to 999,999,999"),
     ("٣", "'٣' is not a whole number"), ("0", "'0' is not a whole number"),
     ("1000000000", "'1000000000' is not a whole number"), ("1e3", "'1e3' is not a whole")],
)  # fmt: skip
def test_bad_quantities_fail_the_row_naming_the_rule(value, reason):
    """str.isdigit() is true for '²' and '٣' but only full-width and ASCII digits are taken."""
    with pytest.raises(CellError, match=f"^Quantity: {reason}"):
        cells.quantity(value, "Quantity")


@pytest.mark.parametrize(
    ("value", "reason"),
    [("²", "'²' is not an amount$"), ("1e999999", "'1e999999' is not an amount$"),
     ("NaN", "'NaN' is not an amount$"), ("-5", "'-5' is not an amount of 0 or more"),
     ("1.005", "'1.005' has more than 2 decimal places"),
     ("1234567890123", "'1234567890123' is more than 12 digits of yuan")],
)  # fmt: skip
def test_bad_amounts_fail_the_row_naming_the_rule(value, reason):
    with pytest.raises(CellError, match=f"^Price: {reason}"):
        cells.money(value, "Price")


def test_numbers_typed_with_full_width_digits_are_taken():
    assert cells.quantity("２", "Q") == 2 and cells.quantity("3.0", "Q") == 3
    assert cells.money("１２．５０元", "P") == Decimal("12.50")
    assert cells.money(".5", "P") == Decimal("0.50")
    assert cells.local_time("２０２２-09-14 11:03:23", "T").year == 2022
    with pytest.raises(CellError, match="is not a time between 1900 and 9998"):
        cells.local_time("0001-01-01 00:00:00", "T")
