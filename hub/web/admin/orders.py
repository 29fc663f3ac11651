"""Orders (S1): search by order no, status, time range, store and source; the order page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from hub.extensions import db
from hub.models import STATUSES, Connection, Customer, Order, OrderLine, OrderRefund
from hub.services import parsing
from hub.web.admin import queries
from hub.web.admin.common import paginate, scoped_or_404
from hub.web.auth import workspace_id

bp = Blueprint("orders", __name__, url_prefix="/orders")


def _filters() -> dict[str, Any]:
    a = request.args
    return {
        "order_no": a.get("order_no", "").strip(),
        "status": a.get("status") if a.get("status") in STATUSES else "",
        "since": parsing.moment(a.get("since"), "since"),
        "until": parsing.moment(a.get("until"), "until", end=True),
        "store": a.get("store", "").strip(),
        "source": a.get("source", "").strip(),
    }


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    filters = _filters()
    pager = paginate(queries.orders_stmt(ws, filters))
    ids = {o.customer_id for o in pager.items if o.customer_id}
    return render_template(
        "admin/orders.html",
        pager=pager,
        statuses=STATUSES,
        sources=queries.order_sources(ws),
        stores=queries.order_stores(ws),
        names=queries.customer_names(ws, ids),
        args=request.args,
    )


@bp.get("/<int:order_id>")
@login_required
def detail(order_id: int) -> Any:
    ws = workspace_id()
    order = scoped_or_404(Order, order_id)
    lines = db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
    )
    refunds = db.session.scalars(
        select(OrderRefund)
        .where(OrderRefund.order_id == order.id)
        .order_by(OrderRefund.refunded_at)
    )
    customer = db.session.get(Customer, order.customer_id) if order.customer_id else None
    conn = db.session.get(Connection, order.connection_id) if order.connection_id else None
    return render_template(
        "admin/order_detail.html",
        o=order,
        lines=list(lines),
        refunds=list(refunds),
        events=queries.order_events(ws, order.id),
        customer=customer,
        conn=conn,
    )
