"""W8 for Youzan orders (PLATFORMS.md §1.5): ship from the API and the CLI, over real HTTP
against the Youzan sandbox; refused when already shipped, in after-sale, unbound (W1) or with
a malformed waybill; a batch where one order fails and the others ship; a partial shipment
where the items already shipped are skipped."""

from __future__ import annotations

import json

from sqlalchemy import select

from hub.extensions import db
from hub.models import OrderLine
from hub.services import connections
from tests.integration.shipping.conftest import order_of, sync


def awaiting(youzan, store, count: int, *, min_lines: int = 1) -> list:
    """``count`` new paid orders (of at least ``min_lines`` lines) synced into the hub."""
    tids: list[str] = []
    while len(tids) < count:
        for tid in youzan.control("orders", count=4, paid=True)["tids"]:
            if youzan.get("truth")["orders"][tid]["lines"] >= min_lines and len(tids) < count:
                tids.append(tid)
    sync(store)
    return [order_of(store.workspace_id, tid) for tid in tids]


def lines_of(order) -> list[str]:
    return list(
        db.session.scalars(
            select(OrderLine.external_id)
            .where(OrderLine.order_id == order.id)
            .order_by(OrderLine.id)
        )
    )


def shipped_on_shop(youzan, tid: str) -> list[dict]:
    return youzan.get("truth")["shipments"].get(tid, [])


def test_w8_youzan_ship_from_the_api_shows_shipped_in_the_hub_and_on_the_shop(
    workspace, youzan, youzan_store, hub
):
    (order,) = awaiting(youzan, youzan_store, 1)
    assert order.status == "paid"
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF1234567890"})
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["order_id"] == order.id and body["waybill"] == "SF1234567890"
    assert body["carrier"] == "7" and body["carrier_name"] == "顺丰速运"  # SF, as Youzan names it
    assert body["status"] == "shipped" and sorted(body["lines"]) == sorted(lines_of(order))
    # on the shop: the waybill, with Youzan's carrier id for SF, over every line
    (sent,) = shipped_on_shop(youzan, order.external_id)
    assert sent["express_id"] == 7 and sent["waybill"] == "SF1234567890"
    assert sorted(sent["oids"]) == sorted(lines_of(order))
    assert youzan.get("truth")["orders"][order.external_id]["status"] == "shipped"
    # in the hub at once, and the shipment on the order
    assert order_of(workspace.id, order.external_id).status == "shipped"
    detail = hub.get(f"/orders/{order.id}").json()
    assert detail["status"] == "shipped"
    assert [s["waybill"] for s in detail["shipments"]] == ["SF1234567890"]
    # a re-sync keeps the shipment record
    sync(youzan_store)
    assert [s["waybill"] for s in hub.get(f"/orders/{order.id}").json()["shipments"]] == [
        "SF1234567890"
    ]


def test_w8_youzan_ship_from_the_cli(workspace, youzan, youzan_store, runner):
    first, second = awaiting(youzan, youzan_store, 2)
    out = runner.invoke(
        args=["hub", "ship", str(first.id), "--carrier", "7", "--waybill", "YT-0001", "--json"]
    )
    assert out.exit_code == 0, out.output
    shipment = json.loads(out.output)
    assert shipment["order_id"] == first.id and shipment["status"] == "shipped"
    assert shipped_on_shop(youzan, first.external_id)[0]["waybill"] == "YT-0001"
    # by order number, in the workspace
    out = runner.invoke(
        args=[
            "hub",
            "ship",
            second.order_no,
            "--workspace",
            workspace.slug,
            "--carrier",
            "顺丰速运",
            "--waybill",
            "SF-2",
        ]  # fmt: skip
    )
    assert out.exit_code == 0, out.output
    assert f"Order {second.order_no} shipped" in out.output
    assert order_of(workspace.id, second.external_id).status == "shipped"
    # shipped again: refused with the reason and its code, exit code 1
    out = runner.invoke(
        args=["hub", "ship", str(first.id), "--carrier", "SF", "--waybill", "SF3", "--json"]
    )
    assert out.exit_code == 1
    assert json.loads(out.output)["error"]["code"] == "already_shipped"


def test_w8_youzan_already_shipped_on_the_shop_is_refused(workspace, youzan, youzan_store, hub):
    (order,) = awaiting(youzan, youzan_store, 1)
    youzan.control(f"orders/{order.external_id}/ship")  # shipped outside the hub
    assert order_of(workspace.id, order.external_id).status == "paid"  # the hub does not know
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF99"})
    assert got.status_code == 409
    error = got.json()["error"]
    assert error["code"] == "already_shipped" and "already shipped" in error["message"]
    assert order.external_id in error["message"]


def test_w8_youzan_after_sale_item_is_refused(workspace, youzan, youzan_store, hub):
    (order,) = awaiting(youzan, youzan_store, 1)
    youzan.control(f"orders/{order.external_id}/after_sale", oid=lines_of(order)[0])
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF77"})
    assert got.status_code == 409
    assert got.json()["error"]["code"] == "after_sale"
    assert "after-sale" in got.json()["error"]["message"]
    assert shipped_on_shop(youzan, order.external_id) == []  # nothing was sent
    assert order_of(workspace.id, order.external_id).shipments is None


def test_w8_youzan_batch_one_after_sale_fails_the_others_ship(workspace, youzan, youzan_store, hub):
    a, b, c = awaiting(youzan, youzan_store, 3)
    youzan.control(f"orders/{b.external_id}/after_sale")
    got = hub.post(
        "/shipments",
        {
            "shipments": [
                {"order_id": a.id, "carrier": "SF", "waybill": "SF-A"},
                {"order_id": b.id, "carrier": "SF", "waybill": "SF-B"},
                {"order_id": c.id, "carrier": "ZTO", "waybill": "ZT-C"},
                {"order_id": 999999, "carrier": "SF", "waybill": "SF-D"},
            ]
        },
    )
    assert got.status_code == 200, got.text
    results = got.json()["results"]
    assert [(r["order_id"], r["ok"]) for r in results] == [
        (a.id, True), (b.id, False), (c.id, True), (999999, False)
    ]  # fmt: skip
    assert results[0]["error"] is None
    assert results[1]["error"]["code"] == "after_sale" and results[1]["error"]["message"]
    assert results[3]["error"]["code"] == "not_found"
    assert shipped_on_shop(youzan, c.external_id)[0]["express_id"] == 3  # ZTO
    assert shipped_on_shop(youzan, b.external_id) == []
    statuses = {o.external_id: order_of(workspace.id, o.external_id).status for o in (a, b, c)}
    assert statuses == {a.external_id: "shipped", b.external_id: "paid", c.external_id: "shipped"}


def test_w8_youzan_partial_items_already_shipped_are_skipped(workspace, youzan, youzan_store, hub):
    (order,) = awaiting(youzan, youzan_store, 1, min_lines=2)
    oids = lines_of(order)
    youzan.control(f"orders/{order.external_id}/ship", oids=[oids[0]])  # one line shipped
    got = hub.post("/shipments", {"shipments": [{"order_id": order.id, "carrier": "SF",
                                                 "waybill": "SF-REST"}]})  # fmt: skip
    (result,) = got.json()["results"]
    assert result["ok"], result
    assert result["shipment"]["skipped_lines"] == [oids[0]]
    assert result["shipment"]["lines"] == oids[1:]
    sent = shipped_on_shop(youzan, order.external_id)
    assert [s["oids"] for s in sent] == [[oids[0]], oids[1:]]  # only the unshipped were sent
    assert order_of(workspace.id, order.external_id).status == "shipped"


def test_w8_youzan_unbound_store_cannot_ship(workspace, youzan, youzan_store, hub, runner):
    (order,) = awaiting(youzan, youzan_store, 1)
    connections.unbind(workspace.id, youzan_store.id)
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF1"})
    assert got.status_code == 409 and got.json()["error"]["code"] == "unbound"
    out = runner.invoke(args=["hub", "ship", str(order.id), "--carrier", "SF", "--waybill", "S1"])
    assert out.exit_code == 1 and "no longer bound" in out.output
    assert shipped_on_shop(youzan, order.external_id) == []


def test_w8_youzan_wrong_waybill_is_named_before_any_call(workspace, youzan, youzan_store, hub):
    (order,) = awaiting(youzan, youzan_store, 1)
    calls = youzan.get("stats")["api_calls"]
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF 12/3"})
    assert got.status_code == 422
    error = got.json()["error"]
    assert error["code"] == "waybill" and error["field"] == "waybill"
    assert "SF 12/3" in error["message"]
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "", "waybill": "SF1"})
    assert got.status_code == 422 and got.json()["error"]["field"] == "carrier"
    assert youzan.get("stats")["api_calls"] == calls  # refused before any platform call
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "NOPE", "waybill": "SF1"})
    assert got.status_code == 422 and got.json()["error"]["code"] == "carrier"


def test_w8_youzan_carriers_come_from_the_platform(workspace, youzan, youzan_store, hub):
    got = hub.get(f"/connections/{youzan_store.id}/carriers")
    assert got.status_code == 200
    names = {c["code"]: c["name"] for c in got.json()["items"]}
    assert names["7"] == "顺丰速运" and names["3"] == "中通快递" and len(names) >= 10


def test_w8_youzan_ship_file_names_bad_rows_and_fails_alone(
    workspace, youzan, youzan_store, runner, tmp_path
):
    a, b, c = awaiting(youzan, youzan_store, 3)
    youzan.control(f"orders/{b.external_id}/after_sale")
    path = tmp_path / "shipments.csv"
    path.write_text(
        "order no,carrier,waybill\n"
        f"{a.order_no},SF,SF-1\n"
        f"{b.order_no},SF,SF-2\n"
        f"{c.order_no},SF,bad waybill!\n"
        ",SF,SF-4\n"
        "E-NO-SUCH,SF,SF-5\n",
        encoding="utf-8",
    )
    out = runner.invoke(
        args=["hub", "ship", "--file", str(path), "--workspace", workspace.slug, "--json"]
    )
    assert out.exit_code == 1, out.output
    data = json.loads(out.output)
    got = {r["line"]: (r["ok"], (r["error"] or {}).get("code")) for r in data["results"]}
    assert got == {
        2: (True, None),
        3: (False, "after_sale"),
        4: (False, "waybill"),
        5: (False, "invalid_row"),
        6: (False, "not_found"),
    }
    assert data["shipped"] == 1 and data["failed"] == 4
    assert order_of(workspace.id, a.external_id).status == "shipped"
    assert shipped_on_shop(youzan, c.external_id) == []
    # the same file again, for a person: a line per row, already shipped now refused
    out = runner.invoke(args=["hub", "ship", "--file", str(path), "--workspace", workspace.slug])
    assert out.exit_code == 1
    assert f"line 2: order {a.id}: FAILED (already_shipped)" in out.output
    assert "0 shipped, 5 failed." in out.output


def test_w8_youzan_platform_failure_is_reported_and_nothing_recorded(
    workspace, youzan, youzan_store, hub
):
    a, b = awaiting(youzan, youzan_store, 2)
    youzan.control("faults", errors_5xx=1)  # the shop's gateway fails once
    got = hub.post(f"/orders/{a.id}/shipments", {"carrier": "SF", "waybill": "SF-X1"})
    assert got.status_code == 503 and got.json()["error"]["code"] == "platform_unavailable"
    assert order_of(workspace.id, a.external_id).shipments is None
    youzan.control("faults", errors_5xx=1)
    got = hub.post(
        "/shipments",
        {"shipments": [{"order_id": o.id, "carrier": "SF", "waybill": f"SF-Y{o.id}"}
                       for o in (a, b)]},
    )  # fmt: skip
    results = got.json()["results"]
    assert results[0]["ok"] is False
    assert results[0]["error"]["code"] == "platform_unavailable"
    assert results[1]["ok"] is True  # the next order ships all the same
    assert shipped_on_shop(youzan, a.external_id) == []


def test_w8_youzan_sf_express_needs_the_sender_mobile(app, workspace, youzan, youzan_store, hub):
    (order,) = awaiting(youzan, youzan_store, 1)
    settings = dict(youzan_store.settings)
    settings.pop("sender_mobile")
    youzan_store.settings = settings
    db.session.commit()
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF1"})
    assert got.status_code == 422
    assert got.json()["error"]["code"] == "carrier" and "Sender mobile" in got.text
    assert shipped_on_shop(youzan, order.external_id) == []
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "YTO", "waybill": "YT1"})
    assert got.status_code == 201  # another carrier needs no sender
