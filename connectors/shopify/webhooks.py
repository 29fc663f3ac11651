"""Shopify webhooks: ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body with the
app's client secret, compared in constant time), the delivery id (``X-Shopify-Webhook-Id``),
the topic (``X-Shopify-Topic``) and each topic's records."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from connectors.shopify.mapping import PLATFORM, parse_time
from hub.connectors import WebhookInfo

ORDER_TOPICS = {
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
}
REREAD_TOPICS = {"orders/edited", "refunds/create"}  # the body is not the order: read it
COMPLIANCE_TOPICS = {"customers/data_request", "customers/redact", "shop/redact"}
UNINSTALLED = "app/uninstalled"


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ("" when absent)."""
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value or ""


def sign(body: bytes, secret: str) -> str:
    """base64 of HMAC-SHA256(key=client secret, message=raw body)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    given = header(headers, "X-Shopify-Hmac-Sha256").strip()
    if not given or not secret:
        return False
    return hmac.compare_digest(given.encode(), sign(body, secret).encode())


class BadPush(ValueError):
    """A webhook body that cannot be read (the intake answers 400)."""


def parse(body: bytes) -> dict[str, Any]:
    try:
        message = orjson.loads(body)
    except (ValueError, TypeError):
        raise BadPush("the webhook body is not JSON") from None
    if not isinstance(message, dict):
        raise BadPush("the webhook body is not a JSON object")
    return message


def info(headers: Mapping[str, str], body: bytes) -> WebhookInfo:
    """Deduplicated on ``X-Shopify-Webhook-Id`` (the same on every retry of a delivery)."""
    delivery = header(headers, "X-Shopify-Webhook-Id").strip()
    topic = header(headers, "X-Shopify-Topic").strip() or None
    if not delivery:
        delivery = f"{PLATFORM}:{topic}:{hashlib.sha256(body).hexdigest()}"
    return WebhookInfo(delivery_id=delivery[:200], topic=topic)


def triggered_at(headers: Mapping[str, str]) -> datetime | None:
    """``X-Shopify-Triggered-At`` as an aware datetime (None when absent or unreadable)."""
    raw = header(headers, "X-Shopify-Triggered-At").strip()
    try:
        return parse_time(raw, what="webhook", field="X-Shopify-Triggered-At")
    except ValueError:
        return None


def reread_id(topic: str, message: Mapping[str, Any]) -> str | None:
    """The order id an ``orders/edited`` or ``refunds/create`` delivery is about."""
    if topic == "orders/edited":
        edit = message.get("order_edit") or {}
        value = edit.get("order_id") if isinstance(edit, Mapping) else None
    else:
        value = message.get("order_id")
    return None if value is None else str(value)
