"""Shipping orders back to their shop (W8), for the CLI, the API and the UI alike.

``ship`` checks the input, finds the order (in the workspace) and its store (bound, on a
platform that ships), asks the connector to ship the order's unshipped items, ingests the
order as the shop has it afterwards (so the hub shows it shipped at once) and keeps a record
of the shipment on the order (``Order.shipments``). ``ship_many`` does the same for many
orders: one failing order never stops the others. Platform calls are made here, not by a
worker, with short timeouts when a person waits (``interactive``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from hub import registry
from hub.connectors import Carrier, Connector, Shipment, ShipResult, resolve_carrier
from hub.core import ingest
from hub.core.errors import N_, HubError, ShipmentRefused
from hub.extensions import db
from hub.models import Connection, Order, utcnow
from hub.services import parsing
from hub.sync import runtime

log = logging.getLogger(__name__)

WAYBILL = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MAX_BATCH = 500


def check_input(carrier: Any, waybill: Any) -> tuple[str, str]:
    """The carrier and waybill, stripped; refused (naming the field) before any call."""
    carrier = str(carrier or "").strip()
    waybill = str(waybill or "").strip()
    if not carrier:
        raise ShipmentRefused("carrier", N_("carrier: choose the carrier"), field="carrier")
    if len(carrier) > 64:
        raise ShipmentRefused(
            "carrier",
            N_("carrier: %(carrier)s is not one of the shop's carriers"),
            field="carrier",
            carrier=carrier[:64],
        )
    if not waybill:
        raise ShipmentRefused("waybill", N_("waybill: enter the waybill number"), field="waybill")
    if not WAYBILL.match(waybill):
        raise ShipmentRefused(
            "waybill",
            N_("waybill: %(waybill)s is not a waybill number (letters, digits and hyphens)"),
            field="waybill",
            waybill=waybill[:64],
        )
    return carrier, waybill


def get_order(workspace_id: int, order_id: Any) -> Order:
    """The workspace's order of hub id ``order_id``; refused as not_found otherwise."""
    oid = parsing.as_id(str(order_id)) if isinstance(order_id, int | str) else None
    order = db.session.get(Order, oid) if oid is not None else None
    if order is None or order.workspace_id != workspace_id:
        raise ShipmentRefused(
            "not_found", N_("order %(order)s: no such order"), field="order_id", order=order_id
        )
    return order


def find_order(workspace_id: int, ref: str, *, by_id: bool = True) -> Order:
    """The order ``ref`` names: its hub id (when ``by_id``), else its order number if one
    order of the workspace has it."""
    ref = str(ref or "").strip()
    oid = parsing.as_id(ref) if by_id else None
    if oid is not None:
        order = db.session.get(Order, oid)
        if order is not None and order.workspace_id == workspace_id:
            return order
    found = db.session.scalars(
        select(Order).where(Order.workspace_id == workspace_id, Order.order_no == ref).limit(2)
    ).all()
    if len(found) == 1:
        return found[0]
    message = (
        N_("order %(order)s: no such order")
        if not found
        else N_("order %(order)s: several orders have this number; use the hub's order id")
    )
    raise ShipmentRefused("not_found", message, field="order_id", order=ref)


def store_of(order: Order) -> Connection:
    """The order's store; refused when the store is unbound (W1) or
    its platform cannot ship."""
    conn = db.session.get(Connection, order.connection_id) if order.connection_id else None
    if conn is None:
        raise ShipmentRefused(
            "no_shipping",
            N_("order %(order)s did not come from a shop the hub can ship to"),
            order=order.order_no,
        )
    if not conn.is_bound:
        raise ShipmentRefused(
            "unbound",
            N_("order %(order)s: its store %(store)s is no longer bound, so it cannot be shipped"),
            order=order.order_no,
            store=conn.name,
        )
    if not ships(conn.platform):
        raise ShipmentRefused(
            "no_shipping",
            N_("order %(order)s: its store's platform cannot ship orders from the hub"),
            order=order.order_no,
        )
    return conn


def ships(platform: str) -> bool:
    """Whether the hub ships orders of ``platform`` (its connector has capability "ship")."""
    cls = registry.connectors().get(platform)
    return cls is not None and "ship" in cls.capabilities


def can_ship(order: Order) -> bool:
    """Whether the hub offers to ship ``order``: its store is bound and its platform ships."""
    try:
        store_of(order)
    except ShipmentRefused:
        return False
    return True


def shippable_connections(workspace_id: int) -> dict[int, Connection]:
    """The workspace's bound stores whose platform ships, by id."""
    rows = db.session.scalars(
        select(Connection).where(
            Connection.workspace_id == workspace_id, Connection.bound_key.is_not(None)
        )
    )
    return {conn.id: conn for conn in rows if ships(conn.platform)}


def carriers(workspace_id: int, connection_id: int, *, interactive: bool = True) -> list[Carrier]:
    """The carriers of a bound store that ships, as its platform lists them."""
    conn = db.session.get(Connection, connection_id)
    if conn is None or conn.workspace_id != workspace_id:
        raise ShipmentRefused(
            "not_found", N_("store %(store)s: no such store"), field="connection_id",
            store=connection_id,
        )  # fmt: skip
    if not conn.is_bound:
        raise ShipmentRefused("unbound", N_("store %(store)s is no longer bound"), store=conn.name)
    if not ships(conn.platform):
        raise ShipmentRefused(
            "no_shipping", N_("store %(store)s cannot ship orders from the hub"), store=conn.name
        )
    connector = runtime.connector_for(conn, interactive=interactive)
    try:
        return connector.carriers()
    finally:
        _count_calls(connector, conn.id)


class _Connectors:
    """One connector per store for a batch, its carrier list read once."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self.built: dict[int, Connector] = {}
        self.carriers: dict[int, list[Carrier]] = {}

    def get(self, conn: Connection) -> Connector:
        if conn.id not in self.built:
            self.built[conn.id] = runtime.connector_for(conn, interactive=self.interactive)
        return self.built[conn.id]

    def carrier(self, conn: Connection, wanted: str) -> Carrier:
        """The store's carrier ``wanted`` names: its code, its name (any case), or a short
        code the connector knows (``carrier_aliases``, e.g. SF for Youzan's id 7)."""
        connector = self.get(conn)
        if conn.id not in self.carriers:
            self.carriers[conn.id] = list(connector.carriers())
        known = self.carriers[conn.id]
        return resolve_carrier(wanted, known, getattr(connector, "carrier_aliases", None))


def ship(
    workspace_id: int,
    order_id: Any,
    carrier: Any,
    waybill: Any,
    *,
    interactive: bool = True,
    order: Order | None = None,
    connectors: _Connectors | None = None,
) -> dict[str, Any]:
    """Ship one order's unshipped items with ``carrier`` and ``waybill``; returns the
    shipment recorded. Raises ShipmentRefused (``code`` for programs) or the platform's error."""
    carrier, waybill = check_input(carrier, waybill)
    order = order or get_order(workspace_id, order_id)
    conn = store_of(order)
    connectors = connectors or _Connectors(interactive)
    connector = connectors.get(conn)
    try:
        chosen = connectors.carrier(conn, carrier)
        result = connector.ship(Shipment(order.external_id, chosen.code, waybill))
        return _record(order, conn, connector, chosen, waybill, result)
    except BaseException:
        db.session.rollback()
        _count_calls(connector, conn.id)
        raise


def _record(
    order: Order,
    conn: Connection,
    connector: Connector,
    carrier: Carrier,
    waybill: str,
    result: ShipResult,
) -> dict[str, Any]:
    """Ingest the order as the shop has it now and keep the shipment on it, in one commit."""
    order_id, workspace_id = order.id, order.workspace_id
    if result.order is not None:
        outcome = ingest.apply(
            db.session, workspace_id, [result.order], connection_id=conn.id, commit=False
        )
        for failure in outcome.failures:
            log.warning("order %s shipped, but not re-read: %s", order_id, failure.reason)
    order = db.session.get(Order, order_id, populate_existing=True, with_for_update=True)
    shipment = {
        "carrier": carrier.code,
        "carrier_name": carrier.name,
        "waybill": waybill,
        "shipped_at": utcnow().isoformat(),
        "lines": list(result.shipped_lines),
        "skipped_lines": list(result.skipped_lines),
    }
    order.shipments = [*(order.shipments or []), shipment]
    runtime.record_api_calls(db.session, connector, conn.id)
    db.session.commit()
    return {"order_id": order_id, "order_no": order.order_no, "status": order.status, **shipment}


def ship_many(
    workspace_id: int,
    items: Iterable[tuple[Any, Any, Any]],
    *,
    interactive: bool = True,
    by_number: bool = False,
) -> list[dict[str, Any]]:
    """Ship each (order, carrier, waybill); per item ``{order_id, ok, error, shipment}`` in
    order, where ``error`` is ``{code, message}`` (English; a refusal also has its ``msgid``
    and ``params`` to translate) or None. One failure never stops the others.
    ``by_number``: the orders are given by order number (a file) rather than hub id."""
    connectors = _Connectors(interactive)
    results = []
    for ref, carrier, waybill in items:
        results.append(_one(workspace_id, ref, carrier, waybill, connectors, by_number))
    return results


def _one(
    workspace_id: int,
    ref: Any,
    carrier: Any,
    waybill: Any,
    connectors: _Connectors,
    by_number: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {"order_id": ref, "ok": False, "error": None, "shipment": None}
    try:
        check_input(carrier, waybill)
        order = find_order(workspace_id, ref, by_id=False) if by_number else None
        if order is not None:
            out["order_id"] = order.id
        out["shipment"] = ship(
            workspace_id, ref, carrier, waybill, order=order, connectors=connectors
        )
        out["ok"] = True
    except ShipmentRefused as exc:
        out["error"] = {"code": exc.code, "message": str(exc), "msgid": exc.message,
                        "params": exc.params}  # fmt: skip
    except HubError as exc:
        db.session.rollback()
        out["error"] = {"code": error_code(exc), "message": str(exc)}
    return out


def error_code(exc: HubError) -> str:
    """A code for programs of a platform failure that is not a refusal."""
    if isinstance(exc, ShipmentRefused):
        return exc.code
    return {"transient": "platform_unavailable", "configuration": "platform_refused"}.get(
        exc.error_class, "failed"
    )


def _count_calls(connector: Connector, connection_id: int) -> None:
    runtime.record_api_calls(db.session, connector, connection_id)
    db.session.commit()
