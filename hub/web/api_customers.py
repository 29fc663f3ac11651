"""GET /customers, /customers/<id>, its timeline and its orders."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from hub.services import queries
from hub.web import api_serial as ser
from hub.web.api_base import bp, page_args, paged, workspace_id


@bp.get("/customers")
def customers() -> Any:
    page, per_page = page_args()
    result = queries.search_customers(workspace_id(), request.args.get("q"), page, per_page)
    return paged(result, ser.customer)


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int) -> Any:
    ws = workspace_id()
    found = queries.get_customer(ws, customer_id)
    return jsonify(ser.customer_detail(found, queries.customer_profile(ws, found)))


@bp.get("/customers/<int:customer_id>/timeline")
def customer_timeline(customer_id: int) -> Any:
    page, per_page = page_args()
    return paged(queries.customer_timeline(workspace_id(), customer_id, page, per_page), ser.event)


@bp.get("/customers/<int:customer_id>/orders")
def customer_orders(customer_id: int) -> Any:
    page, per_page = page_args()
    return paged(queries.customer_orders(workspace_id(), customer_id, page, per_page), ser.order)
