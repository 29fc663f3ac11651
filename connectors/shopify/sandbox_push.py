"""The sandbox's webhook sender: Shopify deliveries signed with the app's client secret
(``X-Shopify-Hmac-Sha256`` = base64 HMAC-SHA256 of the raw body), with duplicate deliveries
(same ``X-Shopify-Webhook-Id``), stale retries (an older payload arriving after a newer one,
its ``X-Shopify-Triggered-At`` telling them apart), retries on non-2xx or slow answers, and the
three mandatory compliance topics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from connectors.shopify.sandbox_data import CLIENT_SECRET, SHOP_DOMAIN, SHOP_ID

API_VERSION = "2025-01"
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def sign(raw: bytes, secret: str = CLIENT_SECRET) -> str:
    """``X-Shopify-Hmac-Sha256``: base64 of HMAC-SHA256(key=client secret, msg=raw body)."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def verify(raw: bytes, header: str, secret: str = CLIENT_SECRET) -> bool:
    return hmac.compare_digest(sign(raw, secret), header or "")


@dataclass
class Delivery:
    """One webhook: its topic, raw body and fixed headers (retries reuse them all)."""

    topic: str
    raw: bytes
    webhook_id: str
    triggered_at: str
    event_id: str

    def headers(self, secret: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": self.topic,
            "X-Shopify-Hmac-Sha256": sign(self.raw, secret),
            "X-Shopify-Shop-Domain": SHOP_DOMAIN,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": self.webhook_id,
            "X-Shopify-Triggered-At": self.triggered_at,
            "X-Shopify-Event-Id": self.event_id,
        }


def delivery(topic: str, body: dict[str, Any], triggered_at: str) -> Delivery:
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Delivery(topic, raw, str(uuid.uuid4()), triggered_at, str(uuid.uuid4()))


def compliance_body(topic: str, customer: dict[str, Any] | None, order_ids: list[int]) -> dict:
    """The payloads of the three compliance topics (PLATFORMS.md §3.6)."""
    base: dict[str, Any] = {"shop_id": SHOP_ID, "shop_domain": SHOP_DOMAIN}
    if topic == "shop/redact":
        return base
    who = {
        "id": (customer or {}).get("id"),
        "email": (customer or {}).get("email"),
        "phone": (customer or {}).get("phone"),
    }
    if topic == "customers/data_request":
        return {
            **base,
            "orders_requested": order_ids,
            "customer": who,
            "data_request": {"id": int(time.time())},
        }
    return {**base, "customer": who, "orders_to_redact": order_ids}


@dataclass
class PushSettings:
    url: str | None = None
    duplicate: bool = False  # deliver each webhook twice, with the same X-Shopify-Webhook-Id
    stale: bool = False  # after each resource's latest delivery, re-send its previous one
    # Shopify's 8 retries over 4 hours, compressed to about 3 seconds
    retry_delays: list[float] = field(
        default_factory=lambda: [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0]
    )
    timeout: float = 5.0  # Shopify gives up on an answer after 5 s and retries
    bad_hmac: bool = False  # sign with a wrong secret (the receiver must answer 401)


class Pusher:
    """Delivers deliveries to the registered URL, retrying as Shopify does (its 8 tries over
    4 hours compressed into ``retry_delays``), and keeps a log of every attempt."""

    def __init__(self) -> None:
        self.settings = PushSettings()
        self.log: list[dict[str, Any]] = []

    def send_all(self, items: list[Delivery]) -> list[dict[str, Any]]:
        if not self.settings.url:
            return []
        plan: list[Delivery] = []
        for d in items:
            plan.append(d)
            if self.settings.duplicate:
                plan.append(d)
        if self.settings.stale:
            # each resource's earlier deliveries arrive after its latest one (their first
            # tries lost): a retry carries the original payload and X-Shopify-Triggered-At
            latest: dict[tuple[str, str], Delivery] = {}
            for d in items:
                latest[(d.topic.split("/")[0], _resource_id(d.raw))] = d
            late = [
                d for d in plan if latest[(d.topic.split("/")[0], _resource_id(d.raw))] is not d
            ]
            plan = [d for d in plan if d not in late] + late
        return [self.deliver(d) for d in plan]

    def deliver(self, d: Delivery) -> dict[str, Any]:
        secret = "not-the-client-secret" if self.settings.bad_hmac else CLIENT_SECRET
        attempts = 0
        for delay in [0.0, *self.settings.retry_delays]:
            time.sleep(delay)
            attempts += 1
            try:
                resp = requests.post(
                    self.settings.url or "",
                    data=d.raw,
                    headers=d.headers(secret),
                    timeout=self.settings.timeout,
                )
                status = resp.status_code
            except requests.RequestException:
                status = 0
            self.log.append(
                {
                    "topic": d.topic,
                    "webhook_id": d.webhook_id,
                    "triggered_at": d.triggered_at,
                    "attempt": attempts,
                    "status": status,
                }
            )
            if 200 <= status < 300:
                return {
                    "topic": d.topic,
                    "webhook_id": d.webhook_id,
                    "acked": True,
                    "attempts": attempts,
                    "status": status,
                }
            if status == 401:
                break  # a refused signature is not retried into acceptance
        return {
            "topic": d.topic,
            "webhook_id": d.webhook_id,
            "acked": False,
            "attempts": attempts,
            "status": status,
        }


def _resource_id(raw: bytes) -> str:
    try:
        return str(json.loads(raw).get("id"))
    except (ValueError, AttributeError):
        return ""
