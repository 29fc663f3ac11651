"""Shipping back (W8): ``POST /orders/<id>/shipments`` (one order), ``POST /shipments`` (a
batch) and ``GET /connections/<id>/carriers`` (the carrier list, from the platform).

A refusal is ``{"error": {"code": <ShipmentRefused.code>, "message", "field"?}}``: 404 for
not_found, 422 for a carrier or waybill the shop would not take, 409 for the rest (the order's
state on the shop, an unbound store, a platform that cannot ship)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from hub.core.errors import ShipmentRefused, ValidationFailed
from hub.services import shipping
from hub.web.api_base import bp, error_response, json_body, workspace_id
from hub.web.i18n import _, error_text, gettext_

STATUS = {"not_found": 404, "carrier": 422, "waybill": 422}


def refusal(exc: ShipmentRefused) -> Any:
    extra = {"field": exc.field} if exc.field else {}
    return error_response(STATUS.get(exc.code, 409), exc.code, error_text(exc), **extra)


@bp.post("/orders/<int:order_id>/shipments")
def ship_order(order_id: int) -> Any:
    body = json_body()
    try:
        shipment = shipping.ship(workspace_id(), order_id, body.get("carrier"), body.get("waybill"))
    except ShipmentRefused as exc:
        return refusal(exc)
    return jsonify(shipment), 201


@bp.post("/shipments")
def ship_orders() -> Any:
    items = _batch(json_body().get("shipments"))
    results = shipping.ship_many(workspace_id(), items)
    return jsonify(results=[_result(r) for r in results])


def _batch(value: Any) -> list[tuple[Any, Any, Any]]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed(
            _("shipments: give a list of {order_id, carrier, waybill} objects"), field="shipments"
        )
    if len(value) > shipping.MAX_BATCH:
        raise ValidationFailed(
            _("shipments: at most %(max)s orders at a time", max=shipping.MAX_BATCH),
            field="shipments",
        )
    items = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValidationFailed(
                _("shipments[%(i)s]: give an object {order_id, carrier, waybill}", i=i),
                field=f"shipments[{i}]",
            )
        items.append((item.get("order_id"), item.get("carrier"), item.get("waybill")))
    return items


def _result(result: dict[str, Any]) -> dict[str, Any]:
    error = result["error"]
    if error is not None:
        message = error["message"]
        if "msgid" in error:
            message = gettext_(error["msgid"], **error["params"])
        error = {"code": error["code"], "message": message}
    return {**result, "error": error}


@bp.get("/connections/<int:connection_id>/carriers")
def store_carriers(connection_id: int) -> Any:
    try:
        found = shipping.carriers(workspace_id(), connection_id)
    except ShipmentRefused as exc:
        return refusal(exc)
    return jsonify(items=[{"code": c.code, "name": c.name} for c in found])
