"""Shipping back to Youzan (W8, PLATFORMS.md §1.5): the carrier list
(``youzan.logistics.express.get`` 3.0.0) and ``youzan.logistics.online.confirm`` 3.0.0 with
the comma-joined oids of the lines not shipped yet. The trade is read first, so that what the
shop would refuse (already shipped, an after-sale case open, a closed trade) is refused here
in plain words, with the code programs read (``ShipmentRefused.code``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.youzan.client import YouzanApiError, YouzanClient
from hub.connectors import Carrier
from hub.core.errors import N_, ShipmentRefused

WAYBILL = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# Refund statuses of an after-sale case still open (PLATFORMS.md §1.4).
AFTER_SALE_OPEN = frozenset(
    {"WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS",
     "CUSTOMER_SERVICE_IN"}
)  # fmt: skip
# The short codes merchants type (WeChat's delivery_id) for Youzan's carrier ids
# (youzan.logistics.express.get): `hub ship --carrier SF` works for every shop.
ALIASES = {
    "STO": "1",
    "YTO": "2",
    "ZTO": "3",
    "YD": "4",
    "HTKY": "6",
    "SF": "7",
    "EMS": "11",
    "JD": "12",
    "DBL": "13",
    "JTSD": "14",
}
SF_EXPRESS = "7"
NO_SENDER = N_(
    "carrier: Youzan ships with %(carrier)s only with the sender's mobile: enter it in the "
    "store's settings (Sender mobile)"
)
SHOP_REFUSED = N_("Youzan refused to ship order %(order)s: %(reason)s")
_CONFIRM_ERRORS: dict[Any, tuple[str, str]] = {
    102570007: ("already_shipped", N_("order %(order)s is already shipped on the shop")),
    102570020: ("already_shipped", N_("order %(order)s has nothing left to ship on the shop")),
    105000003: ("waybill", N_("waybill: the shop refused the waybill number %(waybill)s")),
}


def carriers(client: YouzanClient) -> list[Carrier]:
    """The shop's carriers, in Youzan's order (those it shows: ``display``)."""
    data = client.call("youzan.logistics.express.get", "3.0.0", {}) or {}
    rows = data.get("allExpress") or [] if isinstance(data, Mapping) else []
    return [
        Carrier(code=str(row["id"]), name=str(row.get("name") or row["id"]))
        for row in rows
        if isinstance(row, Mapping) and row.get("id") is not None and row.get("display", 1)
    ]


def check_waybill(waybill: str) -> None:
    if not WAYBILL.match(waybill or ""):
        raise ShipmentRefused(
            "waybill",
            N_("waybill: %(waybill)s is not a waybill number (letters, digits and hyphens)"),
            field="waybill",
            waybill=waybill,
        )


def unshipped_lines(tid: str, data: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The oids still to ship and those already shipped, of a ``youzan.trade.get`` answer;
    refused when the trade cannot be shipped or a line has an after-sale case open."""
    info = data.get("full_order_info") or {}
    status = (info.get("order_info") or {}).get("status")
    if status in ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_SUCCESS"):
        raise ShipmentRefused(
            "already_shipped", N_("order %(order)s is already shipped on the shop"), order=tid
        )
    if status != "WAIT_SELLER_SEND_GOODS":
        raise ShipmentRefused(
            "not_shippable",
            N_("order %(order)s cannot be shipped in its state on the shop (%(state)s)"),
            order=tid,
            state=str(status),
        )
    oids = [str(line.get("oid")) for line in info.get("orders") or [] if line.get("oid")]
    _check_after_sale(tid, oids, data.get("refund_order") or [])
    shipped = {
        str(entry.get("oid"))
        for delivery in data.get("delivery_order") or []
        for entry in delivery.get("oids") or []
    }
    todo = [oid for oid in oids if oid not in shipped]
    if not todo:
        raise ShipmentRefused(
            "already_shipped", N_("order %(order)s is already shipped on the shop"), order=tid
        )
    return todo, [oid for oid in oids if oid in shipped]


def _check_after_sale(tid: str, oids: list[str], refunds: Iterable[Mapping[str, Any]]) -> None:
    for refund in refunds:
        if refund.get("status") not in AFTER_SALE_OPEN:
            continue
        lines = [str(e.get("oid")) for e in refund.get("oids") or [] if e.get("oid")]
        raise ShipmentRefused(
            "after_sale",
            N_("order %(order)s has an item in after-sale (%(item)s): it is not shipped"),
            order=tid,
            item=", ".join(lines or oids),
        )


def confirm(
    client: YouzanClient,
    tid: str,
    oids: list[str],
    carrier: Carrier,
    waybill: str,
    *,
    sender: str | None = None,
) -> None:
    """``youzan.logistics.online.confirm`` for ``oids``; Youzan's refusals are ShipmentRefused.
    SF Express needs the sender's mobile (``outer_sender``): the store's ``sender_mobile``."""
    params: dict[str, Any] = {
        "tid": tid,
        "oids": ",".join(oids),
        "is_no_express": 0,
        "out_stype": carrier.code,
        "out_sid": waybill,
    }
    if carrier.code == SF_EXPRESS:
        if not sender:
            raise ShipmentRefused("carrier", NO_SENDER, field="carrier", carrier=carrier.name)
        params["outer_sender"] = {"sender_mobile": sender}
    try:
        client.call("youzan.logistics.online.confirm", "3.0.0", params)
    except YouzanApiError as exc:
        code, message = _CONFIRM_ERRORS.get(exc.code, ("not_shippable", SHOP_REFUSED))
        field = "waybill" if code == "waybill" else None
        raise ShipmentRefused(
            code, message, field=field, order=tid, waybill=waybill, reason=str(exc)
        ) from exc
