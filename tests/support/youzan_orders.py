"""A Youzan order as the connector maps it (``created`` is Shanghai wall time, as Youzan sends
it), written through the core's one writer: for the time zone tests."""

from __future__ import annotations

import copy

from sqlalchemy import select

from connectors.youzan.mapping import map_trade
from hub.core import ingest
from hub.extensions import db
from hub.models import Order, Workspace

TRADE = {
    "order_info": {
        "tid": "E20261114203300000100001",
        "status": "TRADE_SUCCESS",
        "created": "2026-11-14 20:33:00",
        "update_time": "2026-11-14 20:40:00",
        "pay_time": "2026-11-14 20:34:10",
        "node_kdt_id": 91000001,
        "shop_name": "Tea House",
    },
    "buyer_info": {"yz_open_id": "yzo-1"},
    "address_info": {"receiver_tel": "13812345678", "delivery_province": "Zhejiang"},
    "pay_info": {"total_fee": "128.00", "payment": "128.00", "post_fee": "0.00"},
    "orders": [
        {"oid": 1, "item_id": 1001, "sku_id": 0, "title": "Longjing", "num": 1,
         "price": "128.00", "total_fee": "128.00", "payment": "128.00"},
    ],
}  # fmt: skip


def youzan_order(ws: Workspace, tid: str, created: str) -> Order:
    """A Youzan order as the connector maps it (Shanghai wall time), through the core's writer."""
    trade = copy.deepcopy(TRADE)
    trade["order_info"].update(tid=tid, created=created, update_time=created, pay_time=created)
    record = map_trade(trade, store_id="91000001", store_name="Tea House")
    assert record is not None
    ingest.apply(db.session, ws.id, [record])
    found = db.session.scalar(
        select(Order).where(Order.workspace_id == ws.id, Order.external_id == tid)
    )
    assert found is not None
    return found
