"""Order listings decoded to the fields the hub reads (connectors.wechat_shop.pages) give the
very records, products first met and create times the whole answers give, for every order of
a played sandbox shop (every status, after-sales, shipments, both address variants)."""

from __future__ import annotations

import orjson
import pytest

from connectors.wechat_shop.mapping import map_order
from connectors.wechat_shop.pages import ORDER_LIST, decode_answer
from connectors.wechat_shop.products import products_in_orders, rules
from connectors.wechat_shop.sandbox_data import Shop
from connectors.wechat_shop.sandbox_life import generate
from connectors.wechat_shop.sandbox_render import order_json
from connectors.wechat_shop.streams import create_times

NOW = 1_780_000_000


@pytest.fixture(scope="module")
def answer() -> bytes:
    shop = Shop(6)
    generate(shop, 400, 40, NOW)
    orders = sorted((order_json(o) for o in shop.orders.values()),
                    key=lambda o: o["create_time"])  # fmt: skip
    return orjson.dumps({"errcode": 0, "errmsg": "ok", "total_num": 400, "orders": orders})


def test_orders_map_the_same_from_the_trimmed_answer(answer):
    whole, trimmed = orjson.loads(answer), decode_answer(ORDER_LIST, answer)
    assert trimmed is not None
    assert {k: v for k, v in trimmed.items() if k != "orders"} == {
        "errcode": 0, "errmsg": "ok", "total_num": 400
    }  # fmt: skip
    assert [map_order(o, store_id="s") for o in trimmed["orders"]] == [
        map_order(o, store_id="s") for o in whole["orders"]
    ]
    rule = rules({})
    assert products_in_orders(trimmed["orders"], rule) == products_in_orders(whole["orders"], rule)
    assert create_times(trimmed["orders"], None) == create_times(whole["orders"], None)
    item = trimmed["orders"][0]["order_detail"]["product_infos"][0]
    assert "thumb_img" not in item and "title" in item  # what the hub never reads is skipped


@pytest.mark.parametrize(
    "content",
    [
        b'{"errcode":40001,"errmsg":"invalid credential"}',  # an error envelope
        b'{"errcode":0,"orders":[{"order_id":1,"order_detail":"x"}]}',  # another shape
        b"<html>not JSON</html>",
    ],
)
def test_an_answer_of_another_shape_is_left_to_the_whole_decode(content):
    assert decode_answer(ORDER_LIST, content) is None


def test_other_paths_are_decoded_whole():
    assert decode_answer("/product/spu/get_list", b'{"errcode":0,"spus":[]}') is None
