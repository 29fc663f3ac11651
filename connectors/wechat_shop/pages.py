"""``/product/order/get_list`` answers decoded to what the orders stream and the mapping read.

A mini-shop order carries thumbnails, prepay ids, delivery times, postal codes and after-sale
lists the hub never reads. Here the answer is decoded by msgspec against TypedDicts naming the
fields :mod:`connectors.wechat_shop.mapping`, :mod:`connectors.wechat_shop.products` and
:mod:`connectors.wechat_shop.streams` read: every other field is skipped by the decoder
without building a Python object, and what is kept is the same dicts, lists and values orjson
gives (``Any`` fields: integers exact at any size), so the mapping reads them unchanged.

An answer the schema does not describe (an error envelope without ``orders``, a field of
another JSON type than the mapping expects) is decoded again with orjson, whole: the client
and the mapping then meet it exactly as before.
"""

from __future__ import annotations

from typing import Any, TypedDict

import msgspec

# Each TypedDict names the fields read of that object (total=False: any may be missing); a
# field the mapping comes to read must be added here too (tests/integration/wechat_shop/
# test_wechat_pages.py maps every sandbox order both ways).


class Address(TypedDict, total=False):
    """``address_info`` / ``delivery_address_info`` (consignee_of)."""

    user_name: Any
    tel_number: Any
    province_name: Any
    city_name: Any
    county_name: Any
    detail_info: Any


class Delivery(TypedDict, total=False):
    delivery_method: Any
    express_fee: Any
    delivery_product_info: Any  # a list of shipments, or one object in some SDKs: kept whole
    address_info: Address | None
    delivery_address_info: Address | None


class ProductInfo(TypedDict, total=False):
    product_id: Any
    sku_id: Any
    sku_cnt: Any
    sale_price: Any
    title: Any
    on_aftersale_sku_cnt: Any
    finish_aftersale_sku_cnt: Any
    sku_attrs: Any


class PriceInfo(TypedDict, total=False):
    order_price: Any
    freight: Any
    product_price: Any
    discounted_price: Any


class PayInfo(TypedDict, total=False):
    pay_time: Any
    transaction_id: Any
    pay_method: Any


class Detail(TypedDict, total=False):
    product_infos: list[ProductInfo] | None
    price_info: PriceInfo | None
    pay_info: PayInfo | None
    delivery_info: Delivery | None


class AfterSale(TypedDict, total=False):
    on_aftersale_order_cnt: Any


class Notes(TypedDict, total=False):
    customer_notes: Any
    merchant_notes: Any


class Order(TypedDict, total=False):
    order_id: Any
    out_order_id: Any
    status: Any
    create_time: Any
    update_time: Any
    openid: Any
    order_detail: Detail | None
    aftersale_detail: AfterSale | None
    ext_info: Notes | None


class OrderList(TypedDict, total=False):
    """The answer's envelope: what the client (errcode, errmsg) and the stream read."""

    errcode: Any
    errmsg: Any
    total_num: Any
    orders: list[Order]


ORDER_LIST = "/product/order/get_list"
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {ORDER_LIST: msgspec.json.Decoder(OrderList)}


def decode_answer(path: str, content: bytes) -> dict[str, Any] | None:
    """The answer to ``path`` decoded to the fields read, or None when this module has no
    schema for the path or the answer does not fit it (then decode it whole)."""
    decoder = _DECODERS.get(path)
    if decoder is None:
        return None
    try:
        body: dict[str, Any] = decoder.decode(content)
    except msgspec.DecodeError:  # not JSON, or not the shape described: decoded whole
        return None
    return body if "orders" in body else None  # an error envelope: decoded whole
