"""Shipping from the UI (W8): "Ship" on the order page and "Ship selected" on the orders list
(one carrier and waybill per order, then a result per order). The views call
``hub.services.shipping``, as the CLI and the API do."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from hub.core.errors import HubError
from hub.extensions import db
from hub.models import Order
from hub.queries import orders as q_orders
from hub.services import parsing, shipping
from hub.web.admin.common import error_text, scoped_or_404
from hub.web.auth import admin_required, is_admin, workspace_id
from hub.web.i18n import _, gettext_

bp = Blueprint("shipping", __name__, url_prefix="/orders")
MAX_SELECTED = 100


def ship_panel(order: Order) -> dict[str, Any] | None:
    """What the order page shows to ship ``order``: its store's carriers (or why they could
    not be read), or None when the hub does not offer to ship it."""
    if not is_admin() or order.status != "paid" or not shipping.can_ship(order):
        return None
    try:
        carriers = shipping.carriers(order.workspace_id, order.connection_id)
    except HubError as exc:
        db.session.rollback()
        return {"carriers": [], "error": error_text(exc)}
    return {"carriers": carriers, "error": None}


def shippable_ids(workspace_id: int, orders: list[Order]) -> set[int]:
    """The orders of a page the list offers to ship: awaiting shipment, store bound and able."""
    stores = shipping.shippable_connections(workspace_id) if orders else {}
    return {o.id for o in orders if o.status == "paid" and o.connection_id in stores}


@bp.post("/<int:order_id>/ship")
@admin_required
def ship(order_id: int) -> Any:
    ws = workspace_id()
    scoped_or_404(Order, order_id)
    try:
        done = shipping.ship(ws, order_id, request.form.get("carrier"), request.form.get("waybill"))
    except HubError as exc:  # a refusal (ShipmentRefused) or the platform's failure
        flash(_("Not shipped: %(reason)s", reason=error_text(exc)), "error")
    else:
        flash(_("Shipped %(n)s item(s) with waybill %(waybill)s.", n=len(done["lines"]),
                waybill=done["waybill"]), "success")  # fmt: skip
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.post("/ship-selected")
@admin_required
def ship_selected() -> Any:
    """The form to ship the selected orders: a carrier and a waybill per order."""
    ws = workspace_id()
    ids = [_int(i) for i in request.form.getlist("order")][:MAX_SELECTED]
    rows, carriers = [], {}
    for order_id in ids:
        order = db.session.get(Order, order_id)
        if order is None or order.workspace_id != ws:
            continue
        rows.append({"order": order, "error": _refusal(order, carriers)})
    if not rows:
        flash(_("Select the orders to ship first."), "error")
        return redirect(url_for("orders.index"))
    return render_template("admin/ship_orders.html", rows=rows, carriers=carriers, results=None)


def _refusal(order: Order, carriers: dict[int, list[Any]]) -> str | None:
    """Why ``order`` cannot be shipped (None if it can), reading its store's carriers once."""
    try:
        conn = shipping.store_of(order)
        if conn.id not in carriers:
            carriers[conn.id] = shipping.carriers(order.workspace_id, conn.id)
    except HubError as exc:
        db.session.rollback()
        return error_text(exc)
    return None


@bp.post("/ship-batch")
@admin_required
def ship_batch() -> Any:
    """Ship each order of the form with its own carrier and waybill; a result per order."""
    ws = workspace_id()
    form = request.form
    items = list(zip(form.getlist("order_id"), form.getlist("carrier"), form.getlist("waybill"),
                     strict=False))[:MAX_SELECTED]  # fmt: skip
    results = shipping.ship_many(ws, items)
    ids = [_int(r["order_id"]) for r in results]
    orders = q_orders.by_ids(ws, ids)
    rows = [
        {"order": orders.get(_int(r["order_id"])), "ref": r["order_id"], "ok": r["ok"],
         "message": _message(r)}
        for r in results
    ]  # fmt: skip
    shipped = sum(1 for r in rows if r["ok"])
    return render_template(
        "admin/ship_orders.html", rows=None, carriers={}, results=rows, shipped=shipped
    )


def _int(value: Any) -> int:
    return parsing.as_id(str(value)) or 0


def _message(result: dict[str, Any]) -> str:
    error = result["error"]
    if error is None:
        shipment = result["shipment"]
        return _("Shipped %(n)s item(s) with waybill %(waybill)s.", n=len(shipment["lines"]),
                 waybill=shipment["waybill"])  # fmt: skip
    if "msgid" in error:
        return gettext_(error["msgid"], **error["params"])
    return str(error["message"])
