"""GET /orders (filters of S1), /orders/<id>, /products."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from hub.services import queries
from hub.web import api_serial as ser
from hub.web.api_base import bp, page_args, paged, workspace_id


@bp.get("/orders")
def orders() -> Any:
    page, per_page = page_args()
    filters = queries.OrderFilters.from_args(request.args)
    return paged(queries.list_orders(workspace_id(), filters, page, per_page), ser.order)


@bp.get("/orders/<int:order_id>")
def order(order_id: int) -> Any:
    ws = workspace_id()
    found = queries.get_order(ws, order_id)
    return jsonify(ser.order_detail(found, queries.order_details(ws, found)))


@bp.get("/products")
def products() -> Any:
    page, per_page = page_args()
    result = queries.list_products(
        workspace_id(), request.args.get("q"), request.args.get("source"), page, per_page
    )
    return paged(result, ser.product)
