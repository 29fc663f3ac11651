"""GET /customers, /customers/<id>, its timeline and its orders; DELETE /customers/<id> (H3)."""

from __future__ import annotations

import functools
from typing import Any

from flask import jsonify, request

from hub.queries import customers as q_customers
from hub.queries import orders as q_orders
from hub.services import customers as service
from hub.web import api_serial as ser
from hub.web import csv_export
from hub.web.api_base import bp, paged, workspace_id


@bp.get("/customers")
def customers() -> Any:
    ws = workspace_id()
    found = q_customers.CustomerFilter.from_args(request.args)
    return paged(
        q_customers.search(ws, found),
        ser.customer,
        with_page=lambda items: q_customers.facts(ws, (c.id for c in items)),
    )


@bp.get("/customers.csv")
def customers_csv() -> Any:
    """The customers ``/customers`` lists for the same filters and sort, as streamed CSV."""
    found = q_customers.CustomerFilter.from_args(request.args)
    ws = workspace_id()
    rows = functools.partial(q_customers.export_rows, workspace_id=ws, f=found)
    return csv_export.response("customers.csv", q_customers.EXPORT_HEADER, rows)


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int) -> Any:
    ws = workspace_id()
    found = q_customers.get(ws, customer_id)
    profile = q_customers.profile(ws, found.id)
    contact = q_customers.contact(ws, found)
    facts = q_customers.facts(ws, [found.id]).get(found.id)
    return jsonify(ser.customer_detail(found, profile, contact, facts))


@bp.delete("/customers/<int:customer_id>")
def delete_customer(customer_id: int) -> Any:
    """Delete the customer for good (admin token): its identities, tags and group memberships
    go, its orders and their events stay without a customer, and no later record from any
    source brings it back."""
    removed = service.delete_customer(workspace_id(), customer_id)
    return jsonify(deleted=customer_id, removed=removed)


@bp.get("/customers/<int:customer_id>/timeline")
def customer_timeline(customer_id: int) -> Any:
    ws = workspace_id()
    q_customers.get(ws, customer_id)
    return paged(q_customers.timeline(ws, customer_id), ser.event)


@bp.get("/customers/<int:customer_id>/orders")
def customer_orders(customer_id: int) -> Any:
    ws = workspace_id()
    q_customers.get(ws, customer_id)
    return paged(q_orders.search(ws, q_orders.OrderFilter(customer_id=customer_id)), ser.order)
