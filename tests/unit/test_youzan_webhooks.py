"""Youzan push verification and parsing: Event-Sign over the raw body, msg_id, the ack."""

from __future__ import annotations

import json

import pytest

from connectors.youzan import webhooks
from connectors.youzan.sandbox_data import CLIENT_ID, CLIENT_SECRET
from connectors.youzan.sandbox_push import encode, message
from hub.core.errors import TransientError


@pytest.fixture
def push():
    body = message("E20240101000000000000001", "trade_TradePaid", "WAIT_SELLER_SEND_GOODS",
                   1_704_038_400_000)  # fmt: skip
    return body, *encode(body)


def test_event_sign_is_md5_of_client_id_raw_body_client_secret(push):
    _, raw, headers = push
    assert webhooks.verify(headers, raw, CLIENT_ID, CLIENT_SECRET)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert webhooks.verify(lowered, raw, CLIENT_ID, CLIENT_SECRET)


def test_a_changed_body_or_a_wrong_secret_or_no_header_fails(push):
    _, raw, headers = push
    assert not webhooks.verify(headers, raw.replace(b"PAID", b"PAIX") + b" ", CLIENT_ID,
                               CLIENT_SECRET)  # fmt: skip
    assert not webhooks.verify(headers, raw, CLIENT_ID, "other-secret")
    assert not webhooks.verify({}, raw, CLIENT_ID, CLIENT_SECRET)
    assert not webhooks.verify(headers, raw, CLIENT_ID, "")
    # a re-serialised body (same JSON, other bytes) is not the signed body
    assert not webhooks.verify(headers, json.dumps(json.loads(raw)).encode(), CLIENT_ID,
                               CLIENT_SECRET)  # fmt: skip


def test_delivery_id_is_msg_id_and_topic_is_type(push):
    body, raw, headers = push
    info = webhooks.info(headers, raw)
    assert (info.delivery_id, info.topic) == (body["msg_id"], "trade_TradePaid")
    legacy = json.dumps({"type": "TRADE_ORDER_STATE", "id": "E1", "version": 15}).encode()
    assert webhooks.info({}, legacy).delivery_id == "TRADE_ORDER_STATE:E1:15"


def test_ack_contains_success():
    assert json.loads(webhooks.ACK.body) == {"code": 0, "msg": "success"}


def test_bad_body_is_a_value_error():
    with pytest.raises(ValueError, match="not JSON"):
        webhooks.info({}, b"\xff{")


def test_a_deeply_nested_body_is_a_bad_push_not_a_recursion_error():
    with pytest.raises(webhooks.BadPush, match="not JSON"):
        webhooks.info({}, b"[" * 100_000 + b"]" * 100_000)


def test_only_trade_topics_name_a_trade():
    assert webhooks.trade_id({"type": "trade_TradeSuccess", "id": "E9"}) == "E9"
    assert webhooks.trade_id({"type": "ITEM_INFO", "id": "123"}) is None


def test_a_snapshot_older_than_the_push_is_retried():
    msg = {"id": "E1", "version": 1_704_038_401_002}
    with pytest.raises(TransientError):
        webhooks.check_not_lagging(msg, 1_704_038_400_000)
    webhooks.check_not_lagging(msg, 1_704_038_401_000)  # same second: up to date
    webhooks.check_not_lagging({"id": "E1", "version": 1_704_038_401}, 1_704_038_401_000)
