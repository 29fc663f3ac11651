"""W8 for WeChat Mini Shop orders, over the same hub code as Youzan's (hub.services.shipping):
the API, the batch, the CLI and the UI against the mini-shop sandbox over real HTTP; refused
when already shipped, in after-sale, unbound (W1) or with a malformed waybill; items already
shipped are skipped; order ids above 2^53 stay exact strings."""

from __future__ import annotations

import json

import requests

from connectors.wechat_shop.sandbox_server import demo_bind_config
from hub.services import connections
from tests.integration.shipping.conftest import order_of, sync
from tests.support.ui import browser, csrf_token, login, make_user


def awaiting(wechat, store, count: int) -> list:
    """``count`` new paid two-product orders awaiting shipment, synced into the hub."""
    listed = [p for p, s in wechat.running.app.extensions["wechat_shop_sandbox"].shop.spus.items()
              if s.status == 5][:2]  # fmt: skip
    items = [{"product_id": str(p), "count": 2} for p in listed]
    ids = wechat.control("orders", count=count, paid=True, items=items, delivery_method=0)
    sync(store)
    return [order_of(store.workspace_id, oid) for oid in ids["order_ids"]]


def third_party(wechat, path: str, **body) -> dict:
    """A call as the merchant's other tools make it (their own token, which revokes the
    hub's: the hub must take a new one)."""
    cfg = demo_bind_config(wechat.url)
    token = requests.get(
        f"{wechat.url}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": cfg["appid"], "secret": cfg["secret"]},
        timeout=30,
    ).json()["access_token"]
    return requests.post(
        f"{wechat.url}{path}", params={"access_token": token}, json=body, timeout=30
    ).json()


def sent(wechat, order_id: str) -> list[dict]:
    return [s for s in wechat.get("truth")["shipments"] if str(s["order_id"]) == order_id]


def test_w8_wechat_ship_from_the_api(workspace, wechat, wechat_store, hub):
    (order,) = awaiting(wechat, wechat_store, 1)
    assert order.status == "paid" and int(order.external_id) > 2**53
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF1234567890"})
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["carrier"] == "SF" and body["carrier_name"] == "顺丰速运"
    assert body["status"] == "shipped" and len(body["lines"]) == 2
    (shipment,) = sent(wechat, order.external_id)  # the exact id reached the shop
    assert (shipment["delivery_id"], shipment["waybill_id"]) == ("SF", "SF1234567890")
    assert order_of(workspace.id, order.external_id).status == "shipped"
    detail = hub.get(f"/orders/{order.id}").json()
    assert detail["external_id"] == order.external_id  # a string, exact
    assert [s["waybill"] for s in detail["shipments"]] == ["SF1234567890"]
    again = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF1234567891"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_shipped"


def test_w8_wechat_batch_after_sale_fails_partial_skips_others_ship(
    workspace, wechat, wechat_store, hub
):
    a, b, c = awaiting(wechat, wechat_store, 3)
    wechat.control(f"orders/{b.external_id}/aftersale", line=0, count=1)
    shop = wechat.running.app.extensions["wechat_shop_sandbox"].shop
    first = shop.orders[int(c.external_id)].lines[0]
    partial = {"delivery_id": "YTO", "waybill_id": "YT0001", "is_all_product": False,
               "product_infos": [{"product_id": first.product_id, "sku_id": first.sku_id,
                                  "product_cnt": first.sku_cnt}]}  # fmt: skip
    answer = third_party(wechat, "/product/delivery/send", order_id=int(c.external_id),
                         delivery_list=[partial])  # fmt: skip
    assert answer["errcode"] == 0  # one item shipped on the shop, outside the hub
    got = hub.post(
        "/shipments",
        {"shipments": [{"order_id": o.id, "carrier": "ZTO", "waybill": f"ZT-{i}"}
                       for i, o in enumerate((a, b, c))]},
    )  # fmt: skip
    assert got.status_code == 200, got.text
    results = got.json()["results"]
    assert [(r["order_id"], r["ok"]) for r in results] == [
        (a.id, True),
        (b.id, False),
        (c.id, True),
    ]
    assert (
        results[1]["error"]["code"] == "after_sale"
        and "after-sale" in results[1]["error"]["message"]
    )
    assert results[2]["shipment"]["skipped_lines"] == [f"{first.product_id}:{first.sku_id}"]
    assert len(results[2]["shipment"]["lines"]) == 1  # only the unshipped item was sent
    assert [s["waybill_id"] for s in sent(wechat, c.external_id)] == ["YT0001", "ZT-2"]
    assert sent(wechat, b.external_id) == []
    statuses = [order_of(workspace.id, o.external_id).status for o in (a, b, c)]
    assert statuses == ["shipped", "paid", "shipped"]


def test_w8_wechat_unbound_and_bad_waybill_refused(workspace, wechat, wechat_store, hub, runner):
    (order,) = awaiting(wechat, wechat_store, 1)
    bad = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF_12"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "waybill"
    out = runner.invoke(
        args=["hub", "ship", str(order.id), "--carrier", "SF", "--waybill", "SF 1", "--json"]
    )
    assert out.exit_code == 1 and json.loads(out.output)["error"]["code"] == "waybill"
    connections.unbind(workspace.id, wechat_store.id)
    got = hub.post(f"/orders/{order.id}/shipments", {"carrier": "SF", "waybill": "SF1234"})
    assert got.status_code == 409 and got.json()["error"]["code"] == "unbound"
    assert sent(wechat, order.external_id) == []
    # the products stay (W1)
    assert hub.get("/products?source=wechat_shop").json()["total"] > 0


def test_w8_wechat_ship_from_the_cli_by_order_number(workspace, wechat, wechat_store, runner):
    (order,) = awaiting(wechat, wechat_store, 1)
    out = runner.invoke(
        args=[
            "hub",
            "ship",
            order.order_no,
            "--workspace",
            workspace.slug,
            "--carrier",
            "顺丰速运",
            "--waybill",
            "SF7777",
            "--json",
        ]  # fmt: skip
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["carrier"] == "SF"
    assert sent(wechat, order.external_id)[0]["waybill_id"] == "SF7777"


def test_w8_wechat_ship_from_the_order_page(app, workspace, wechat, wechat_store):
    (order,) = awaiting(wechat, wechat_store, 1)
    make_user(workspace, "admin@acme.test")
    ui = browser(app)
    login(ui, "admin@acme.test")
    html = ui.get(f"/orders/{order.id}").get_data(as_text=True)
    assert '<option value="SF">顺丰速运</option>' in html
    done = ui.post(
        f"/orders/{order.id}/ship",
        data={"csrf_token": csrf_token(html), "carrier": "SF", "waybill": "SF8888"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert (
        "waybill SF8888" in done and order_of(workspace.id, order.external_id).status == "shipped"
    )
