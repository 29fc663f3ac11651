"""Youzan push messages: ``Event-Sign`` verification over the raw body, delivery ids, the ack,
and turning a stored push into a fresh order snapshot (``youzan.trade.get``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from connectors.youzan.client import YouzanApiError
from hub.connectors import WebhookAck, WebhookInfo
from hub.core.errors import TransientError

ACK = WebhookAck(body='{"code":0,"msg":"success"}')
TRADE_NOT_FOUND = 5000
TRADE_TOPIC_PREFIXES = ("trade_", "youzan_trade_")
LEGACY_TRADE_TOPICS = {"TRADE_ORDER_STATE", "TRADE", "TRADE_ORDER_REFUND"}


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ("" when absent)."""
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value or ""


def expected_sign(client_id: str, body: bytes, client_secret: str) -> str:
    """md5 hex of client_id + raw body + client_secret (Youzan's documented scheme)."""
    return hashlib.md5(client_id.encode() + body + client_secret.encode()).hexdigest()  # noqa: S324


def verify(headers: Mapping[str, str], body: bytes, client_id: str, client_secret: str) -> bool:
    """Constant-time comparison of ``Event-Sign`` with the signature of the raw body."""
    given = header(headers, "Event-Sign").strip().lower()
    if not given or not client_id or not client_secret:
        return False
    return hmac.compare_digest(given, expected_sign(client_id, body, client_secret))


class BadPush(ValueError):
    """A push body that cannot be read (the intake answers 400)."""


def parse(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        raise BadPush("the push body is not JSON") from None
    if not isinstance(message, dict):
        raise BadPush("the push body is not a JSON object")
    return message


def info(headers: Mapping[str, str], body: bytes) -> WebhookInfo:
    """``msg_id`` is the delivery id (dedupe); the topic is ``type`` / ``Event-Type``."""
    message = parse(body)
    msg_id = message.get("msg_id")
    if not msg_id:  # older pushes: (type, id, version) identifies a message
        msg_id = f"{message.get('type')}:{message.get('id')}:{message.get('version')}"
    return WebhookInfo(
        delivery_id=str(msg_id),
        topic=str(message.get("type") or header(headers, "Event-Type")) or None,
    )


def trade_id(message: Mapping[str, Any]) -> str | None:
    """The tid a push is about, or None when the topic is not about a trade."""
    topic = str(message.get("type") or "")
    if not (topic.startswith(TRADE_TOPIC_PREFIXES) or topic in LEGACY_TRADE_TOPICS):
        return None
    tid = message.get("id")
    if not tid and isinstance(message.get("msg"), dict):
        tid = message["msg"].get("tid")
    return str(tid) if tid else None


def fetch_trade(client: Any, tid: str) -> dict[str, Any]:
    """``youzan.trade.get``; "not found" right after a push is lag, retried later."""
    try:
        return client.call("youzan.trade.get", "4.0.0", {"tid": tid}) or {}
    except YouzanApiError as exc:
        if exc.code == TRADE_NOT_FOUND:
            raise TransientError(
                f"trade {tid} is not visible to youzan.trade.get yet (pushes run ahead of "
                "the query API); retrying later",
                retry_after=30,
            ) from exc
        raise


def check_not_lagging(message: Mapping[str, Any], version: int | None) -> None:
    """Youzan's query APIs trail pushes: a snapshot older than the push must be retried."""
    pushed = message.get("version")
    if not isinstance(pushed, int) or version is None:
        return
    pushed_ms = pushed * 1000 if pushed < 10**11 else pushed  # seconds or ms epoch
    if version // 1000 < pushed_ms // 1000:  # the query API shows whole seconds
        raise TransientError(
            f"trade {message.get('id')}: the query API is not up to date with the push "
            f"yet (snapshot {version} < pushed {pushed_ms}); retrying later",
            retry_after=30,
        )
