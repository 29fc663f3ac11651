"""Render sandbox records in the mini shop's JSON shapes (PLATFORMS.md §2.2–2.4).

Ids are JSON numbers above 2^53, written with every digit (orjson writes Python ints exactly),
so a client that parses them as doubles loses digits, as against the real API. Rendered orders
are cached as bytes per (order_id, rev), so a page costs a join, not a re-render.
"""

from __future__ import annotations

from typing import Any

import orjson

from connectors.wechat_shop.sandbox_data import DELIVERY_METHODS, Order, Spu
from connectors.youzan.sandbox_render import fmt_time, parse_time

__all__ = ["fmt_time", "parse_time", "order_json", "spu_json", "envelope", "Renderer"]


def _infos(items: list[tuple[int, int, int]]) -> list[dict[str, int]]:
    return [{"product_id": p, "sku_id": k, "product_cnt": n} for p, k, n in items]


def _address(order: Order) -> dict[str, Any]:
    name, tel, prov, city, county, detail = order.address
    return {
        "user_name": name,
        "postal_code": "",
        "province_name": prov,
        "city_name": city,
        "county_name": county,
        "detail_info": detail,
        "national_code": "",
        "tel_number": tel,
    }


def _delivery(order: Order) -> dict[str, Any]:
    method, shipping = DELIVERY_METHODS[order.method]
    out: dict[str, Any] = {
        "delivery_method": method,
        "delivery_time": fmt_time(order.delivery_time),
        "delivery_product_info": [
            {
                "waybill_id": s.waybill_id,
                "delivery_id": s.delivery_id,
                "delivery_time": fmt_time(s.at),
                "product_infos": _infos(s.items),
            }
            for s in order.shipments
        ],
        "express_fee": [{"shipping_method": shipping, "distance": 0}],
        "offline_delivery_time": 0,
        "offline_pickup_time": 0,
        "ship_done_time": fmt_time(order.done_time),
    }
    key = "delivery_address_info" if order.legacy_address else "address_info"
    out[key] = _address(order)
    return out


def order_json(order: Order) -> dict[str, Any]:
    """The ``order`` object of ``/product/order/get`` (and each of ``get_list``'s ``orders``)."""
    lines = [
        {
            "product_id": ln.product_id,
            "sku_id": ln.sku_id,
            "sku_cnt": ln.sku_cnt,
            "on_aftersale_sku_cnt": ln.on_aftersale_sku_cnt,
            "finish_aftersale_sku_cnt": ln.finish_aftersale_sku_cnt,
            "title": ln.title,
            "thumb_img": f"https://mmecimage.cn/p/{ln.product_id}.jpg",
            "sale_price": ln.sale_price,
            "sku_attrs": [{"attr_key": k, "attr_value": v} for k, v in ln.sku_attrs],
        }
        for ln in order.lines
    ]
    return {
        "order_id": order.order_id,
        "out_order_id": "",
        "status": order.status,
        "create_time": fmt_time(order.create_time),
        "update_time": fmt_time(order.update_time),
        "openid": order.openid,
        "order_detail": {
            "product_infos": lines,
            "pay_info": {
                "pay_method": "微信支付" if order.pay_time else "",
                "prepay_id": f"wx{order.order_id}" if order.pay_time else "",
                "prepay_time": fmt_time(order.create_time + 5 if order.pay_time else 0),
                "transaction_id": order.transaction_id,
                "pay_time": fmt_time(order.pay_time),
            },
            "price_info": {
                "product_price": order.product_price,
                "order_price": order.order_price,
                "freight": order.freight,
                "discounted_price": order.discount,
                "is_discounted": order.discount > 0,
            },
            "delivery_info": _delivery(order),
        },
        "aftersale_detail": {
            "aftersale_order_list": [{"aftersale_order_id": a} for a in order.aftersales],
            "on_aftersale_order_cnt": sum(1 for ln in order.lines if ln.on_aftersale_sku_cnt),
        },
        "ext_info": {"customer_notes": order.notes, "merchant_notes": ""},
    }


def spu_json(spu: Spu) -> dict[str, Any]:
    """One ``spus[]`` item of ``/product/spu/get_list`` (§2.3); prices in fen."""
    return {
        "product_id": spu.product_id,
        "out_product_id": "",
        "title": spu.title,
        "sub_title": "",
        "head_img": [f"https://mmecimage.cn/p/{spu.product_id}.jpg"],
        "desc_info": {"imgs": []},
        "brand_id": 2100000000,
        "cats": [{"cat_id": 6153, "level": 1}, {"cat_id": 6233, "level": 2}],
        "shopcat": [],
        "attrs": [{"attr_key": "产地", "attr_value": "中国"}],
        "model": "",
        "status": spu.status,
        "edit_status": spu.edit_status,
        "path": f"pages/product/index?productId={spu.product_id}",
        "min_price": spu.min_price,
        "create_time": fmt_time(spu.create_time),
        "update_time": fmt_time(spu.update_time),
        "skus": [
            {
                "sku_id": s.sku_id,
                "product_id": spu.product_id,
                "out_sku_id": "",
                "sale_price": s.sale_price,
                "market_price": s.sale_price + 1000,
                "stock_num": s.stock_num,
                "status": 5,
                "sku_attrs": [{"attr_key": k, "attr_value": v} for k, v in s.sku_attrs],
            }
            for s in spu.skus
        ],
    }


def envelope(payload: dict[str, Any] | None = None, errcode: int = 0, errmsg: str = "ok") -> bytes:
    """``{"errcode":..,"errmsg":..,...}`` as JSON bytes, ids exact."""
    return orjson.dumps({"errcode": errcode, "errmsg": errmsg, **(payload or {})})


class Renderer:
    """Rendered orders as JSON bytes, cached per (order_id, rev)."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[int, bytes]] = {}

    def order(self, order: Order) -> bytes:
        hit = self._cache.get(order.order_id)
        if hit is not None and hit[0] == order.rev:
            return hit[1]
        raw = orjson.dumps(order_json(order))
        self._cache[order.order_id] = (order.rev, raw)
        return raw

    def order_list(self, orders: list[Order], total: int) -> bytes:
        body = b",".join(self.order(o) for o in orders)
        return b'{"errcode":0,"errmsg":"ok","orders":[' + body + b'],"total_num":%d}' % total
