"""Mini shop pushes (WeChat's message push, PLATFORMS.md §2.5): ``signature``/``timestamp``/
``nonce`` in the QUERY STRING, verified as WeChat does (sha1 hex of the sorted push_token,
timestamp and nonce joined, compared in constant time); JSON or XML bodies; the URL check (a
GET with ``echostr``) answered with the echostr; deliveries deduplicated on order_id + Event +
CreateTime; every push acknowledged with ``success``. In safe mode (an EncodingAESKey bound) a
body's ``Encrypt`` is checked against ``msg_signature`` and decrypted (AES-256-CBC).

The intake hands the query fields a connector names (``webhook_query_fields``) to it in the
headers as ``X-Webhook-Query-<name>`` (``hub.web.webhooks``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET  # noqa: S405  (DTDs and entities are refused first)
from collections.abc import Mapping
from typing import Any

import orjson

from hub.connectors import WebhookAck, WebhookInfo

QUERY_FIELDS = ("signature", "timestamp", "nonce", "echostr", "msg_signature", "encrypt_type")
QUERY_PREFIX = "X-Webhook-Query-"
ACK = WebhookAck(body="success", content_type="text/plain; charset=utf-8")


class BadPush(ValueError):
    """A push body that cannot be read (the intake answers 400)."""


def query(headers: Mapping[str, str], name: str) -> str:
    """A query field the intake copied into the headers ("" when absent)."""
    wanted = (QUERY_PREFIX + name).lower()
    getter = getattr(headers, "get", None)
    value = getter(QUERY_PREFIX + name) if getter else None
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value or ""


def expected_signature(token: str, timestamp: str, nonce: str) -> str:
    """sha1 hex of the sorted [token, timestamp, nonce] joined (WeChat's server check)."""
    joined = "".join(sorted([token, timestamp, nonce]))
    return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324  (WeChat's scheme)


def verify(headers: Mapping[str, str], push_token: str) -> bool:
    given = query(headers, "signature").strip().lower()
    timestamp, nonce = query(headers, "timestamp"), query(headers, "nonce")
    if not given or not push_token or not timestamp or not nonce:
        return False
    return hmac.compare_digest(given, expected_signature(push_token, timestamp, nonce))


def verify_encrypted(headers: Mapping[str, str], body: bytes, push_token: str) -> bool:
    """Safe mode: ``msg_signature`` = sha1 of the sorted [token, timestamp, nonce, Encrypt]
    joined. A plain push (no ``Encrypt``) passes (its ``signature`` was checked)."""
    encrypt = _encrypt_field(body)
    if encrypt is None:
        return True
    given = query(headers, "msg_signature").strip().lower()
    timestamp, nonce = query(headers, "timestamp"), query(headers, "nonce")
    joined = "".join(sorted([push_token, timestamp, nonce, encrypt]))
    expected = hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324  (WeChat's scheme)
    return bool(given) and hmac.compare_digest(given, expected)


def _encrypt_field(body: bytes) -> str | None:
    try:
        value = _raw(body).get("Encrypt")
    except BadPush:
        return None
    return value if isinstance(value, str) and value else None


def decrypt(encrypt: str, aes_key: str, appid: str) -> bytes:
    """WeChat's safe mode: AES-256-CBC with key = base64(EncodingAESKey + "="), IV = the key's
    first 16 bytes, PKCS#7 padding (32-byte blocks); the plain text is 16 random bytes, the
    message length (4 bytes, big-endian), the message, then the appid (checked)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        key = base64.b64decode(aes_key + "=")
        data = base64.b64decode(encrypt)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= 32:
            raise ValueError("padding")
        plain = plain[:-pad]
        length = int.from_bytes(plain[16:20], "big")
        message, sender = plain[20 : 20 + length], plain[20 + length :]
    except (ValueError, TypeError, IndexError) as exc:
        raise BadPush(f"the encrypted push cannot be decrypted ({type(exc).__name__})") from None
    if sender.decode(errors="replace") != appid:
        raise BadPush("the encrypted push is for another appid")
    return message


def parse(body: bytes, *, aes_key: str | None = None, appid: str = "") -> dict[str, Any]:
    """A push as a dict: JSON, or WeChat's ``<xml>`` (nested elements become dicts); in safe
    mode (an ``Encrypt`` field and an EncodingAESKey bound), the decrypted message."""
    message = _raw(body)
    encrypt = message.get("Encrypt")
    if isinstance(encrypt, str) and encrypt:
        if not aes_key:
            raise BadPush("the push is encrypted (safe mode) but no EncodingAESKey is bound")
        return _raw(decrypt(encrypt, aes_key, appid))
    return message


def _raw(body: bytes) -> dict[str, Any]:
    text = body.lstrip()
    if text.startswith(b"<"):
        return _parse_xml(text)
    try:
        message = orjson.loads(body)
    except ValueError:
        raise BadPush("the push body is neither JSON nor XML") from None
    if not isinstance(message, dict):
        raise BadPush("the push body is not a JSON object")
    return message


def _parse_xml(body: bytes) -> dict[str, Any]:
    upper = body.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise BadPush("the push body declares a DTD or entities, which are refused")
    try:
        root = ET.fromstring(body)  # noqa: S314  (no DTD, so no entity can be declared)
    except ET.ParseError:
        raise BadPush("the push body is not well-formed XML") from None
    value = _element(root)
    return value if isinstance(value, dict) else {}


def _element(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        value = _element(child)
        if child.tag in out:  # a repeated element: a list
            previous = out[child.tag]
            out[child.tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[child.tag] = value
    return out


def order_id(message: Mapping[str, Any]) -> str | None:
    """The order a push is about (``order_info.order_id``, or a top-level ``order_id``)."""
    info = message.get("order_info")
    value = info.get("order_id") if isinstance(info, Mapping) else None
    value = value if value not in (None, "") else message.get("order_id")
    if value in (None, "") or isinstance(value, bool | float):
        return None
    return str(value)


def info(body: bytes, *, aes_key: str | None = None, appid: str = "") -> WebhookInfo:
    """order_id + Event + CreateTime identify a delivery (a redelivery is stored once)."""
    message = parse(body, aes_key=aes_key, appid=appid)
    event = str(message.get("Event") or message.get("event") or "")
    created = str(message.get("CreateTime") or "")
    oid = order_id(message) or ""
    if not (event or created or oid):
        raise BadPush("the push has no Event, CreateTime or order_id")
    return WebhookInfo(delivery_id=f"{oid}:{event}:{created}", topic=event or None)
