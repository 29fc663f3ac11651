"""Orders (S1): search by order no, status, time range, store and source; the order page."""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import login_required

from hub.extensions import db
from hub.models import STATUSES, Connection, Customer
from hub.queries import customers as q_customers
from hub.queries import orders as q_orders
from hub.web import csv_export
from hub.web.admin.common import error_text, paginate, scoped_or_404
from hub.web.admin.shipping import ship_panel, shippable_ids
from hub.web.auth import workspace_id
from hub.web.zones import workspace_zone

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    try:
        filters, error = q_orders.OrderFilter.from_args(request.args, workspace_zone()), None
    except q_orders.ReversedRange as exc:  # the page says why nothing can match, form kept
        filters, error = q_orders.OrderFilter(), error_text(exc)
    pager = paginate(q_orders.search(ws, filters)) if error is None else None
    ids = {o.customer_id for o in pager.items if o.customer_id} if pager else set()
    store = scoped_or_404(Connection, filters.connection_id) if filters.connection_id else None
    page = render_template(
        "admin/orders.html",
        pager=pager,
        error=error,
        store=store,
        statuses=STATUSES,
        chosen_statuses=filters.statuses,
        sources=q_orders.sources(ws),
        stores=q_orders.stores(ws),
        names=q_customers.names(ws, ids),
        args=request.args,
        shippable=shippable_ids(ws, list(pager.items)) if pager else set(),
    )
    return page, 400 if error else 200


@login_required
def export() -> Any:
    """The list's orders, for the filters it shows, as streamed CSV."""
    filters = q_orders.OrderFilter.from_args(request.args, workspace_zone())
    ws = workspace_id()
    rows = functools.partial(q_orders.export_rows, workspace_id=ws, f=filters)
    return csv_export.response("orders.csv", q_orders.EXPORT_HEADER, rows)


# /orders.csv beside /orders (as /customers.csv and the API's /api/v1/orders.csv), outside
# the blueprint's /orders/ prefix.
bp.record_once(lambda state: state.app.add_url_rule("/orders.csv", "orders.export", export))


@bp.get("/<int:order_id>")
@login_required
def detail(order_id: int) -> Any:
    ws = workspace_id()
    order = q_orders.get(ws, order_id)
    details = q_orders.details(ws, order.id)
    customer = db.session.get(Customer, order.customer_id) if order.customer_id else None
    conn = db.session.get(Connection, order.connection_id) if order.connection_id else None
    return render_template(
        "admin/order_detail.html",
        o=order,
        lines=details.lines,
        refunds=details.refunds,
        events=details.events,
        customer=customer,
        conn=conn,
        ship=ship_panel(order),
    )
