"""Pure mapping of Youzan's full_order_info (seed 000's tables, Y6/Y7/Y8)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.youzan.mapping import MappingError, ciphertexts, map_trade

CIPHER = {"$bmFtZQ==$1$": "Zhang Wei", "$dGVs$1$": "13812345678", "$YWRkcg==$1$": "88 Wensan Rd"}

TRADE = {
    "order_info": {
        "tid": "E20241105123456000100001",
        "status": "TRADE_SUCCESS",
        "created": "2024-11-05 12:34:56",
        "update_time": "2024-11-09 08:00:01",
        "pay_time": "2024-11-05 12:35:10",
        "pay_type_str": "WEIXIN_DAIXIAO",
        "refund_state": 2,
        "node_kdt_id": 91000001,
        "shop_name": "Tea House",
    },
    "buyer_info": {"yz_open_id": "yzo-1", "outer_user_id": "oWx-1", "union_id": "oUn-1"},
    "address_info": {
        "receiver_name": "$bmFtZQ==$1$",
        "receiver_tel": "$dGVs$1$",
        "delivery_province": "Zhejiang",
        "delivery_city": "Hangzhou",
        "delivery_district": "Xihu",
        "delivery_address": "$YWRkcg==$1$",
    },
    "pay_info": {
        "total_fee": "276.00",
        "payment": "266.00",
        "post_fee": "10.00",
        "transaction": ["4200001"],
    },
    "orders": [
        {
            "oid": 3001,
            "item_id": 1001,
            "sku_id": 0,
            "title": "Longjing 250g",
            "num": 2,
            "price": "128.00",
            "total_fee": "256.00",
            "payment": "246.00",
        },
        {
            "oid": "3002",
            "item_id": "1004",
            "sku_id": 10042,
            "title": "Cup",
            "num": 1,
            "price": "10.00",
            "total_fee": "10.00",
            "payment": "10.00",
        },
    ],
}
REFUNDS = [
    {
        "refund_id": "R1",
        "tid": "E20241105123456000100001",
        "status": "SUCCESS",
        "refund_fee": "46.00",
        "modified": "2024-11-09 08:00:01",
        "reason": "broken",
    },
    {
        "refund_id": "R2",
        "tid": "E20241105123456000100001",
        "status": "WAIT_SELLER_AGREE",
        "refund_fee": "10.00",
        "modified": "2024-11-09 09:00:00",
    },
]


def _map(trade=TRADE, **kw):
    return map_trade(trade, refunds=REFUNDS, plain=CIPHER.__getitem__, **kw)


def test_y6_order_header_fields_follow_the_seed_table():
    rec = _map()
    assert rec.order_no == rec.external_id == "E20241105123456000100001"
    assert rec.amount_total == Decimal("276.00") and rec.amount_paid == Decimal("266.00")
    assert rec.sales_channel == "Youzan" and rec.source == "youzan"
    # created is Shanghai wall time: 12:34:56 +08:00 == 04:34:56 UTC
    assert rec.ordered_at == datetime(2024, 11, 5, 4, 34, 56, tzinfo=UTC)
    assert rec.payment_no == "4200001" and rec.payment_method == "WEIXIN_DAIXIAO"
    assert rec.store_name == "Tea House" and rec.store_id == "91000001"
    c = rec.consignee
    assert (c.name, c.phone, c.province, c.city, c.district, c.address) == (
        "Zhang Wei",
        "13812345678",
        "Zhejiang",
        "Hangzhou",
        "Xihu",
        "88 Wensan Rd",
    )


def test_y6_order_line_fields_follow_the_seed_table():
    first, second = _map().lines
    assert (first.external_id, first.name, first.product_external_id) == (
        "3001",
        "Longjing 250g",
        "1001",
    )
    assert first.sku_id is None  # sku_id 0 means "no SKU"
    assert (first.qty, first.unit_price, first.total, first.paid) == (
        2,
        Decimal("128.00"),
        Decimal("256.00"),
        Decimal("246.00"),
    )
    assert second.sku_id == "10042" and second.product_external_id == "1004"
    assert all(isinstance(x, Decimal) for x in (second.unit_price, second.total, second.paid))


@pytest.mark.parametrize(
    ("platform", "normal"),
    [
        ("WAIT_SELLER_SEND_GOODS", "paid"),
        ("WAIT_BUYER_CONFIRM_GOODS", "shipped"),
        ("TRADE_SUCCESS", "completed"),
        ("TRADE_CLOSED", "closed"),
    ],
)
def test_y7_the_four_states_are_taken(platform, normal):
    trade = copy.deepcopy(TRADE)
    trade["order_info"]["status"] = platform
    rec = _map(trade)
    assert rec.status == normal and rec.platform_status == platform


@pytest.mark.parametrize("platform", ["WAIT_BUYER_PAY", "TRADE_PAID", "WAIT_CONFIRM", "X"])
def test_y7_other_states_are_skipped(platform):
    trade = copy.deepcopy(TRADE)
    trade["order_info"]["status"] = platform
    assert _map(trade) is None


def test_y7_only_successful_refunds_are_joined():
    rec = _map()
    assert [(r.external_id, r.amount, r.reason) for r in rec.refunds] == [
        ("R1", Decimal("46.00"), "broken")
    ]
    assert rec.refunds[0].refunded_at == datetime(2024, 11, 9, 0, 0, 1, tzinfo=UTC)


def test_y7_a_closed_trade_carries_its_closure_not_a_return():
    trade = copy.deepcopy(TRADE)
    trade["order_info"]["status"] = "TRADE_CLOSED"
    rec = _map(trade)
    assert rec.refunds == [] and rec.closed_at == rec.updated_at


def test_y8_buyer_identities_in_priority_order_and_consignee_attributes():
    buyer = _map().buyer
    assert buyer.identities == [
        ("yz_open_id", "yzo-1"),
        ("wx_openid", "oWx-1"),
        ("wx_unionid", "oUn-1"),
    ]
    assert buyer.name == "Zhang Wei" and buyer.mobile == "13812345678"
    assert buyer.properties == {
        "country": "China",
        "province": "Zhejiang",
        "city": "Hangzhou",
        "district": "Xihu",
        "address": "88 Wensan Rd",
    }


def test_y8_missing_identities_are_left_out():
    trade = copy.deepcopy(TRADE)
    trade["buyer_info"] = {"yz_open_id": "", "outer_user_id": "oWx-9", "union_id": ""}
    assert _map(trade).buyer.identities == [("wx_openid", "oWx-9")]


def test_version_is_the_update_time_in_ms():
    rec = _map()
    assert rec.version == int(rec.updated_at.timestamp() * 1000)


def test_ciphertexts_lists_the_pii_to_decrypt():
    assert ciphertexts([TRADE]) == set(CIPHER)


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (("order_info", "created"), "2024-11-05", "created"),
        (("pay_info", "payment"), "12,00", "pay_info.payment"),
    ],
)
def test_errors_name_the_trade_and_the_field(path, value, needle):
    trade = copy.deepcopy(TRADE)
    trade[path[0]][path[1]] = value
    with pytest.raises(MappingError, match=needle) as err:
        _map(trade)
    assert "E20241105123456000100001" in str(err.value)


def test_a_line_amount_error_names_the_line():
    trade = copy.deepcopy(TRADE)
    line = trade["orders"][0]
    line["price"] = "twelve"
    with pytest.raises(MappingError) as err:
        _map(trade)
    assert f"orders[{line['oid']}].price 'twelve'" in str(err.value)
