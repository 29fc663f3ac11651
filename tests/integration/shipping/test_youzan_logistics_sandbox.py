"""The Youzan sandbox's shipping write-back as PLATFORMS.md §1.5 has it, and the connector's
reading of its refusals: ``youzan.logistics.express.get`` (``allExpress``), ``online.confirm``
with comma-joined ``oids`` (a partial shipment keeps the trade awaiting shipment until every
line is shipped), 102570007 / 102570020 / 102599996 / 105000003."""

from __future__ import annotations

import pytest

from connectors.youzan import shipping
from hub.connectors import Carrier
from hub.core.errors import ShipmentRefused
from hub.extensions import db
from hub.models import Connection
from hub.sync import runtime
from tests.integration.shipping.conftest import SENDER


@pytest.fixture
def client(youzan_store):
    return runtime.connector_for(db.session.get(Connection, youzan_store.id)).client


def _trade(youzan, client, min_lines: int = 2) -> tuple[str, list[str]]:
    while True:
        (tid,) = youzan.control("orders", count=1, paid=True)["tids"]
        data = client.call("youzan.trade.get", "4.0.0", {"tid": tid})
        oids = [line["oid"] for line in data["full_order_info"]["orders"]]
        if len(oids) >= min_lines:
            return tid, oids


def _confirm(client, **params):
    from connectors.youzan.client import YouzanApiError

    try:
        return client.call("youzan.logistics.online.confirm", "3.0.0", params)
    except YouzanApiError as exc:
        return exc.code


def test_express_list_in_the_3_0_0_envelope(client):
    data = client.call("youzan.logistics.express.get", "3.0.0", {})
    assert {"id": 7, "name": "顺丰速运", "display": 1} in data["allExpress"]


def test_partial_then_whole_shipment_and_the_refusals(youzan, client):
    tid, oids = _trade(youzan, client)
    base = {"tid": tid, "out_stype": "7", "is_no_express": 0,
            "outer_sender": {"sender_mobile": SENDER}}  # fmt: skip
    assert _confirm(client, **base, oids="abc", out_sid="SF1") == 102599996
    assert _confirm(client, **{**base, "outer_sender": {}}, oids=oids[0], out_sid="SF-0") == 5000
    assert _confirm(client, **base, oids=oids[0], out_sid="SF 1") == 105000003
    assert _confirm(client, **base, oids=oids[0], out_sid="SF-1") == {"is_success": True}
    data = client.call("youzan.trade.get", "4.0.0", {"tid": tid})
    assert data["full_order_info"]["order_info"]["status"] == "WAIT_SELLER_SEND_GOODS"
    assert data["delivery_order"][0]["oids"] == [{"oid": oids[0]}]
    assert _confirm(client, **base, oids=oids[0], out_sid="SF-2") == 102570007
    rest = ",".join(oids[1:])
    assert _confirm(client, **base, oids=rest, out_sid="SF-2") == {"is_success": True}
    data = client.call("youzan.trade.get", "4.0.0", {"tid": tid})
    assert data["full_order_info"]["order_info"]["status"] == "WAIT_BUYER_CONFIRM_GOODS"
    assert _confirm(client, **base, out_sid="SF-3") == 102570007
    truth = youzan.get("truth")["shipments"][tid]
    assert [(s["oids"], s["waybill"]) for s in truth] == [([oids[0]], "SF-1"), (oids[1:], "SF-2")]


def test_the_connector_reads_youzan_refusals(youzan, client):
    tid, oids = _trade(youzan, client, min_lines=1)
    sf = Carrier("7", "顺丰速运")
    with pytest.raises(ShipmentRefused) as bad:
        shipping.confirm(
            client, tid, oids, sf, "SF/1", sender=SENDER
        )  # the shop's own check (105000003)
    assert bad.value.code == "waybill" and bad.value.field == "waybill"
    with pytest.raises(ShipmentRefused) as no_sender:
        shipping.confirm(client, tid, oids, sf, "SF1")  # SF Express needs the sender's mobile
    assert no_sender.value.code == "carrier" and "Sender mobile" in str(no_sender.value)
    shipping.confirm(client, tid, oids, sf, "SF1", sender=SENDER)
    with pytest.raises(ShipmentRefused) as again:
        shipping.confirm(client, tid, oids, sf, "SF2", sender=SENDER)  # 102570007
    assert again.value.code == "already_shipped" and tid in str(again.value)
    other_tid, other_oids = _trade(youzan, client, min_lines=1)
    with pytest.raises(ShipmentRefused) as unknown:
        shipping.confirm(client, other_tid, other_oids, Carrier("99", "?"), "X1")
    assert unknown.value.code == "not_shippable" and "Youzan refused" in str(unknown.value)


def test_after_sale_case_on_a_line_is_seen_in_the_trade(youzan, client):
    tid, oids = _trade(youzan, client)
    youzan.control(f"orders/{tid}/after_sale", oid=oids[1])
    data = client.call("youzan.trade.get", "4.0.0", {"tid": tid})
    with pytest.raises(ShipmentRefused) as refused:
        shipping.unshipped_lines(tid, data)
    assert refused.value.code == "after_sale" and oids[1] in str(refused.value)
