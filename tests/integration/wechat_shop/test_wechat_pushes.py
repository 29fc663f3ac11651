"""Pushes over real HTTP: ``POST /webhooks/wechat_shop/<id>?signature=&timestamp=&nonce=``
verified as WeChat does (sha1 of the sorted push_token, timestamp, nonce), JSON and XML
bodies, a bad signature refused (401, nothing stored), a duplicate (order_id + Event +
CreateTime) stored once, the URL check (GET with echostr) answered, each push acknowledged
``success`` and turned into the order fetched by /product/order/get."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from hub.extensions import db
from hub.models import WebhookDelivery
from tests.integration.wechat_shop.conftest import order, run_webhook_worker


def _deliveries(workspace_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count(WebhookDelivery.id)).where(WebhookDelivery.workspace_id == workspace_id)
    )


def _new_paid_order(sandbox) -> str:
    return sandbox.control("orders", count=1, paid=True)["order_ids"][0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_push_json_and_xml_ingest_the_order(app, store, sandbox, hub_server, workspace, fmt):
    url = f"{hub_server}/webhooks/wechat_shop/{store.id}"
    oid = _new_paid_order(sandbox)
    assert int(oid) > 2**53
    [sent] = sandbox.control("push", url=url, order_id=oid, format=fmt)["sent"]
    assert sent["status"] == 200 and sent["acked"], sent
    run_webhook_worker(app)
    row = order(workspace.id, oid)
    assert row is not None and row.status == "paid" and row.external_id == oid
    assert row.sales_channel == "wechat_shop"


def test_push_duplicate_is_stored_once(app, store, sandbox, hub_server, workspace):
    url = f"{hub_server}/webhooks/wechat_shop/{store.id}"
    oid = _new_paid_order(sandbox)
    sent = sandbox.control("push", url=url, order_id=oid, duplicate=True)["sent"]
    assert [s["acked"] for s in sent] == [True, True]
    assert _deliveries(workspace.id) == 1
    run_webhook_worker(app)
    assert order(workspace.id, oid) is not None


def test_push_with_a_bad_signature_is_refused_and_not_stored(store, sandbox, hub_server, workspace):
    url = f"{hub_server}/webhooks/wechat_shop/{store.id}"
    oid = _new_paid_order(sandbox)
    [sent] = sandbox.control("push", url=url, order_id=oid, bad_signature=True)["sent"]
    assert sent["status"] == 401 and not sent["acked"]
    unsigned = requests.post(url, json={"Event": "x", "CreateTime": 1}, timeout=10)
    assert unsigned.status_code == 401
    assert _deliveries(workspace.id) == 0


def test_push_url_check_answers_the_echostr(store, sandbox, hub_server):
    url = f"{hub_server}/webhooks/wechat_shop/{store.id}"
    assert sandbox.control("push/verify", url=url)["verified"] is True
    refused = sandbox.control("push/verify", url=url, bad_signature=True)
    assert refused["verified"] is False and refused["status"] == 401


def test_push_of_an_unpaid_order_stores_nothing(app, store, sandbox, hub_server, workspace):
    url = f"{hub_server}/webhooks/wechat_shop/{store.id}"
    oid = sandbox.control("orders", count=1, paid=False)["order_ids"][0]
    [sent] = sandbox.control("push", url=url, order_id=oid, event="open_product_order_new")["sent"]
    assert sent["acked"]
    run_webhook_worker(app)
    assert order(workspace.id, oid) is None


def test_push_xml_with_entities_is_refused(store, hub_server, workspace):
    from connectors.wechat_shop.sandbox_data import PUSH_TOKEN
    from connectors.wechat_shop.sandbox_push import signature

    params = {"timestamp": "1700000000", "nonce": "42"}
    params["signature"] = signature(PUSH_TOKEN, params["timestamp"], params["nonce"])
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Event>&a;</Event></xml>'
    url = f"{hub_server}/webhooks/wechat_shop/{store.id}"
    resp = requests.post(url, params=params, data=body, timeout=10)
    assert resp.status_code == 400
    assert _deliveries(workspace.id) == 0


def _encrypted(message: bytes, aes_key: str, appid: str) -> str:
    """What WeChat sends in safe mode: base64(AES-256-CBC(16 random bytes + length + message
    + appid)), PKCS#7 to 32-byte blocks, IV = the key's first 16 bytes."""
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(aes_key + "=")
    plain = os.urandom(16) + len(message).to_bytes(4, "big") + message + appid.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def test_push_in_safe_mode_is_checked_and_decrypted(app, workspace, sandbox, hub_server):
    import hashlib
    import secrets
    import string

    import orjson

    from connectors.wechat_shop.sandbox_data import APPID, PUSH_TOKEN
    from connectors.wechat_shop.sandbox_push import signature
    from connectors.wechat_shop.sandbox_server import demo_bind_config
    from hub.services import connections

    alphabet = string.ascii_letters + string.digits  # WeChat generates 43 letters and digits
    aes_key = "".join(secrets.choice(alphabet) for _ in range(43))
    conn = connections.bind(
        workspace.id, "wechat_shop", {**demo_bind_config(sandbox.url), "encoding_aes_key": aes_key}
    )
    oid = _new_paid_order(sandbox)
    inner = orjson.dumps(
        {
            "ToUserName": "gh_x",
            "CreateTime": 1700000001,
            "MsgType": "event",
            "Event": "open_product_order_pay",
            "order_info": {"order_id": int(oid)},
        }
    )
    encrypt = _encrypted(inner, aes_key, APPID)
    timestamp, nonce = "1700000001", "77"
    joined = "".join(sorted([PUSH_TOKEN, timestamp, nonce, encrypt]))
    params = {
        "signature": signature(PUSH_TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": hashlib.sha1(joined.encode()).hexdigest(),  # noqa: S324
    }
    url = f"{hub_server}/webhooks/wechat_shop/{conn.id}"
    body = orjson.dumps({"ToUserName": "gh_x", "Encrypt": encrypt})
    forged = requests.post(url, params={**params, "msg_signature": "0" * 40}, data=body, timeout=10)
    assert forged.status_code == 401
    resp = requests.post(url, params=params, data=body, timeout=10)
    assert resp.status_code == 200 and resp.text == "success"
    assert _deliveries(workspace.id) == 1
    run_webhook_worker(app)
    assert order(workspace.id, oid).status == "paid"
