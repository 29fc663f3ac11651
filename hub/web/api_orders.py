"""GET /orders (filters of S1), /orders/<id>, /products."""

from __future__ import annotations

import functools
from typing import Any

from flask import jsonify, request

from hub.queries import orders as q_orders
from hub.queries import products as q_products
from hub.web import api_serial as ser
from hub.web import csv_export
from hub.web.api_base import bp, paged, workspace_id
from hub.web.zones import workspace_zone


@bp.get("/orders")
def orders() -> Any:
    filters = q_orders.OrderFilter.from_args(request.args, workspace_zone())
    return paged(q_orders.search(workspace_id(), filters), ser.order)


@bp.get("/orders.csv")
def orders_csv() -> Any:
    """The orders ``/orders`` lists for the same filters, as streamed CSV."""
    filters = q_orders.OrderFilter.from_args(request.args, workspace_zone())
    ws = workspace_id()
    rows = functools.partial(q_orders.export_rows, workspace_id=ws, f=filters)
    return csv_export.response("orders.csv", q_orders.EXPORT_HEADER, rows)


@bp.get("/orders/<int:order_id>")
def order(order_id: int) -> Any:
    ws = workspace_id()
    found = q_orders.get(ws, order_id)
    return jsonify(ser.order_detail(found, q_orders.details(ws, found.id)))


@bp.get("/products")
def products() -> Any:
    filters = q_products.ProductFilter.from_args(request.args)
    return paged(q_products.search(workspace_id(), filters), ser.product)
