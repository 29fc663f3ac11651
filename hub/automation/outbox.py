"""The outbound webhook outbox (A1, issue 25): rules write a delivery row in the transaction of
the event that fired them (``enqueue`` / ``enqueue_many``: nothing is committed here, so a
crash loses or doubles nothing); the worker delivers it (``hub.automation.delivery``).

Signing follows Standard Webhooks v1: ``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of
"{webhook-id}.{webhook-timestamp}.{body}">``. A secret written ``whsec_<base64>`` is the
base64 of the key (the spec's form); any other secret is used as its UTF-8 bytes.

Targets (``check_target``): http or https only, on public addresses: a host that resolves to a
loopback, private, link-local, shared, multicast or reserved address is refused unless
``HUB_WEBHOOK_ALLOW_PRIVATE=true``. Checked when a rule is saved and again at every delivery,
on the address actually connected to (``hub.sync.egress``: DNS can change in between).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import socket
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, scoped_session

from hub.core.errors import Refused
from hub.models import OutboxDelivery, OutboxDisabledTarget, utcnow

log = logging.getLogger(__name__)

SCHEMES = ("http", "https")
MAX_URL = 2000
KICK_FLAG = "hub_outbox_kick"  # Session.info: a delivery job is queued after the commit


def enqueue(
    session: Session,
    workspace_id: int,
    *,
    url: str,
    secret: str,
    event_type: str,
    payload: dict[str, Any],
    rule_id: int | None = None,
    rule_run_id: int | None = None,
) -> int:
    """Write one delivery in the caller's transaction (flushed, not committed); its id."""
    row = _row(workspace_id, url, secret, event_type, payload, rule_id, rule_run_id, {})
    row["status"] = "disabled" if _disabled(session, workspace_id, {url}) else "pending"
    new_id = session.execute(
        insert(OutboxDelivery.__table__).values(**row).returning(OutboxDelivery.__table__.c.id)
    ).scalar_one()
    _kick_after_commit(session)
    return int(new_id)


def enqueue_many(session: Session, workspace_id: int, rows: list[dict[str, Any]]) -> None:
    """``enqueue`` of every row (keys as enqueue's keyword arguments), in one statement (the
    core's bulk insert: on the batch's write-behind thread when there is one)."""
    if not rows:
        return
    from hub.core.store.sql import insert_rows

    disabled = _disabled(session, workspace_id, {r["url"] for r in rows})
    secrets: dict[str, bytes] = {}  # one encryption per distinct secret of the batch
    now = utcnow()
    values = []
    for r in rows:
        secret = r["secret"] or ""
        if secret not in secrets:
            secrets[secret] = encrypt_secret(secret)
        values.append((
            r.get("rule_id"), r.get("rule_run_id"), r["url"], secrets[secret], r["event_type"],
            body_text(r["payload"]), new_msg_id(),
            "disabled" if r["url"] in disabled else "pending",
        ))  # fmt: skip
    columns = ("rule_id", "rule_run_id", "url", "secret_enc", "event_type", "body", "msg_id",
               "status", "workspace_id", "attempts", "next_attempt_at", "created_at")  # fmt: skip
    same = (workspace_id, 0, now, now)
    insert_rows(session, OutboxDelivery.__table__, columns, [(*v, *same) for v in values])
    _kick_after_commit(session)


def check_target(url: str, *, allow_private: bool) -> None:
    """Refused (field "url") unless ``url`` is an http(s) URL whose host resolves to public
    addresses only (every address is checked); ``allow_private`` lifts the address check."""
    if not isinstance(url, str) or not url.strip():
        raise Refused("a webhook needs a URL", field="url")
    if len(url) > MAX_URL:
        raise Refused("the webhook URL is longer than %(max)d characters", field="url", max=MAX_URL)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused("%(url)s is not a valid URL", field="url", url=url) from exc
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise Refused(
            "%(url)s is not an http or https URL; webhooks are sent over http or https",
            field="url", url=url,
        )  # fmt: skip
    if parts.username or parts.password:
        raise Refused("the webhook URL must not hold a user name or password", field="url")
    if allow_private:
        return
    from hub.automation.egress import EgressRefused, WebhookPolicy

    host = parts.hostname
    try:
        WebhookPolicy().addresses(host, port or (443 if parts.scheme == "https" else 80))
    except EgressRefused as exc:
        raise Refused(str(exc), field="url") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(
            "the webhook host %(host)s could not be resolved", field="url", host=host
        ) from exc


def allow_private(config: Mapping[str, Any] | None = None) -> bool:
    """HUB_WEBHOOK_ALLOW_PRIVATE of the app's configuration."""
    if config is None:
        from flask import current_app, has_app_context

        config = current_app.config if has_app_context() else {}
    return bool(config.get("WEBHOOK_ALLOW_PRIVATE"))


# --- signing (Standard Webhooks v1) -------------------------------------------------------


def secret_key(secret: str) -> bytes:
    """The HMAC key of ``secret``: the base64 after ``whsec_``, else the secret's UTF-8."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[6:], validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header's value."""
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Tributary-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def encrypt_secret(secret: str, key: str | None = None) -> bytes:
    from hub.crypto import encrypt_json

    return encrypt_json({"secret": secret}, key)


def decrypt_secret(token: bytes, key: str | None = None) -> str:
    from hub.crypto import decrypt_json

    return str(decrypt_json(token, key).get("secret", ""))


# --- rows ------------------------------------------------------------------------------------


def body_text(payload: dict[str, Any]) -> str:
    """The JSON body, compact UTF-8; Decimal money as a string ("200.00"), times in ISO 8601."""
    try:
        return orjson.dumps(payload, default=_json_default, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:  # an int beyond 64 bits: the slower encoder writes it
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_json_default)


_OPTIONS = orjson.OPT_NON_STR_KEYS


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in a webhook payload")


def new_msg_id() -> str:
    """``msg_`` and 32 random hex digits (os.urandom, a quarter of uuid4's cost per row)."""
    return "msg_" + os.urandom(16).hex()


def _row(
    workspace_id: int,
    url: str,
    secret: str,
    event_type: str,
    payload: dict[str, Any],
    rule_id: int | None,
    rule_run_id: int | None,
    secrets: dict[str, bytes],
) -> dict[str, Any]:
    if secret not in secrets:
        secrets[secret] = encrypt_secret(secret or "")
    now = utcnow()
    return {
        "workspace_id": workspace_id,
        "rule_id": rule_id,
        "rule_run_id": rule_run_id,
        "url": url,
        "secret_enc": secrets[secret],
        "event_type": event_type,
        "body": body_text(payload),
        "msg_id": new_msg_id(),
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _disabled(session: Session, workspace_id: int, urls: set[str]) -> set[str]:
    table = OutboxDisabledTarget.__table__
    query = select(table.c.url).where(table.c.workspace_id == workspace_id)
    return set(session.scalars(query.where(table.c.url.in_(sorted(urls)))))


def _kick_after_commit(session: Session) -> None:
    """The fast path: once the enqueuing transaction commits, queue a delivery job. Losing it
    (Redis down, no app) loses nothing: the workers' maintenance pass delivers due rows."""
    target = session() if isinstance(session, scoped_session) else session
    target.info[KICK_FLAG] = True
    if not target.info.get(LISTENING):
        target.info[LISTENING] = True
        sa_event.listen(target, "after_commit", _after_commit)
        sa_event.listen(target, "after_rollback", _after_rollback)


LISTENING = "hub_outbox_listening"


def kick(*, unless_queued: bool = False) -> None:
    """Queue a delivery job (``hub.automation.delivery.deliver_due_job``); nothing happens if
    Redis or the app is unavailable: the maintenance pass finds the due rows later. With
    ``unless_queued`` (the maintenance pass, every few seconds while deliveries are due) only
    when no job so queued is waiting or running (``QUEUED_KEY``, which the job clears)."""
    from hub.extensions import redis_connection
    from hub.jobs.queues import REDIS_DOWN, WEBHOOKS, queue

    try:
        if unless_queued and not redis_connection().set(QUEUED_KEY, 1, nx=True, ex=QUEUED_TTL):
            return
        queue(WEBHOOKS).enqueue(DELIVERY_JOB, description="outbound webhook deliveries")
    except REDIS_DOWN as exc:
        log.info("outbound webhooks left for the maintenance pass: %s", exc)
    except RuntimeError as exc:  # no app context
        log.debug("outbound webhooks not kicked: %s", exc)


DELIVERY_JOB = "hub.automation.delivery.deliver_due_job"
QUEUED_KEY = "hub:outbox:queued"
QUEUED_TTL = 600  # a job lost with its worker frees the key after this


def _after_commit(session: Session) -> None:
    if session.info.pop(KICK_FLAG, None):
        kick()


def _after_rollback(session: Session) -> None:
    session.info.pop(KICK_FLAG, None)
