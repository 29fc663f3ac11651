"""A test-only connector with webhooks (platform "fakepush").

Deliveries are signed ``X-Fake-Signature: base64(HMAC-SHA256(secret, raw body))``, carry their
delivery id in ``X-Fake-Delivery`` and an order JSON as body (the shape of
``tests.support.order_payload.OrderSchema``).
Binding checks nothing remote: ``store_id`` is the store, a secret of "wrong" is rejected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import Schema, fields, validate

from hub.connectors import BindInfo, Connector, WebhookAck, WebhookInfo
from hub.core.errors import AuthError
from hub.core.records import Record
from tests.support.order_payload import order_schema

ACK = '{"code":0,"msg":"success"}'


class FakePushSettings(Schema):
    store_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    store_name = fields.String(load_default=None, allow_none=True)
    webhook_secret = fields.String(
        required=True, validate=validate.Length(min=8), metadata={"secret": True}
    )
    region = fields.String(load_default="cn")


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class FakePushConnector(Connector):
    platform: ClassVar[str] = "fakepush"
    display_name: ClassVar[str] = "Fake push shop"
    settings_schema: ClassVar[type[Schema]] = FakePushSettings
    capabilities: ClassVar[frozenset[str]] = frozenset({"push"})
    sales_channel: ClassVar[str | None] = "Fake Push"

    def check(self) -> BindInfo:
        if self.config["webhook_secret"].startswith("wrong"):
            raise AuthError("the platform rejected these credentials")
        store = self.config["store_id"]
        return BindInfo(external_id=store, name=self.config.get("store_name") or f"Store {store}")

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = headers.get("X-Fake-Signature") or ""
        expected = sign(self.config["webhook_secret"], body)
        return hmac.compare_digest(given.encode(), expected.encode())

    def webhook_info(self, headers: Mapping[str, str], body: bytes) -> WebhookInfo:
        delivery = headers.get("X-Fake-Delivery")
        if not delivery:
            raise KeyError("X-Fake-Delivery header is missing")
        return WebhookInfo(delivery_id=delivery, topic=headers.get("X-Fake-Topic"))

    def webhook_ack(self) -> WebhookAck:
        return WebhookAck(body=ACK)

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> list[Record]:
        payload: dict[str, Any] = json.loads(body)
        payload.setdefault("source", self.platform)
        payload.setdefault("store_id", self.config["store_id"])
        payload.setdefault("sales_channel", self.sales_channel)
        return [order_schema.load(payload)]
