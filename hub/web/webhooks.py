"""Webhook intake: ``POST /webhooks/<platform>/<connection-id>``.

Verify the signature on the raw body, store one inbox row per platform delivery id, hand it
to the "webhooks" queue, answer with the platform's expected body. No login; the signature is
the authentication. Per request: one pooled connection (SQLAlchemy Core; the ORM session is
never opened) for an indexed SELECT of the connection's columns and one INSERT + COMMIT; no
cookie session either. The committed row's id goes to the process's announcer
(``hub.inbox.intake.announce``), whose thread hands it to Redis while the answer is already on
its way: the row, not the queue entry, is what makes a push safe, and a row never handed over is
queued by the scheduler's tick. The SELECT runs before any write, so the INSERT starts a fresh write
transaction.

Connectors used for verification are kept per process, keyed on the connection id and checked
against its stored settings and encrypted credentials on every request: any change to either
(a rebind, a refreshed token, a new secret) builds a fresh one, so a stale secret never verifies.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import Connection, Row, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from hub import registry
from hub.connectors import Connector
from hub.extensions import db
from hub.inbox import intake
from hub.models import Connection as BoundStore
from hub.models import WebhookDelivery, utcnow
from hub.sync import runtime

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

DROPPED_HEADERS = frozenset({"cookie", "authorization"})
CACHE_SIZE = 1024
_CONN = BoundStore.__table__.c
TARGET = select(
    _CONN.id,
    _CONN.platform,
    _CONN.workspace_id,
    _CONN.bound_key,
    _CONN.settings,
    _CONN.credentials_enc,
).where(_CONN.id == bindparam("id"))
INSERT = insert(WebhookDelivery.__table__)


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


@bp.post("/<platform>/<int:connection_id>")
def receive(platform: str, connection_id: int) -> Any:
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return _error(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")
    with db.engine.connect() as sql:
        # Read fresh on every request: an unbind takes effect at once.
        target = sql.execute(TARGET, {"id": connection_id}).first()
        if target is None or target.bound_key is None or target.platform != platform:
            return _error(404, "not_found", "no bound store at this address")
        if platform not in registry.connectors():
            return _error(404, "not_found", "no bound store at this address")
        body = request.stream.read(limit + 1)
        if len(body) > limit:
            return _error(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")
        connector = _connector(connection_id, target)
        given = _with_query(connector, request.headers)
        if not _verified(connector, given, body, connection_id):
            return _error(401, "bad_signature", "the webhook signature does not match")
        try:
            info = connector.webhook_info(given, body)
        except (ValueError, KeyError) as exc:
            return _error(400, "bad_delivery", f"cannot read the delivery: {exc}")
        headers = {k: v for k, v in given.items() if k.lower() not in DROPPED_HEADERS}
        delivery_id = _store(sql, connection_id, target, info, headers, body)
    if delivery_id is not None:
        intake.announce(delivery_id)
    ack = connector.webhook_ack()
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


@bp.get("/<platform>/<int:connection_id>")
def challenge(platform: str, connection_id: int) -> Any:
    """A platform's check of the push URL (WeChat: a signed GET with ``echostr``), answered
    by the connector's ``webhook_challenge``; nothing is stored."""
    with db.engine.connect() as sql:
        target = sql.execute(TARGET, {"id": connection_id}).first()
    if target is None or target.bound_key is None or target.platform != platform:
        return _error(404, "not_found", "no bound store at this address")
    cls = registry.connectors().get(platform)
    if cls is None:
        return _error(404, "not_found", "no bound store at this address")
    if cls.webhook_challenge is Connector.webhook_challenge:  # its platform checks no URL
        return _error(405, "method_not_allowed", "this address takes pushes (POST) only")
    connector = _connector(connection_id, target)
    try:
        ack = connector.webhook_challenge(_with_query(connector, request.headers))
    except Exception:  # a malformed check is a failed one
        log.warning("webhook check raised for connection %s", connection_id, exc_info=True)
        ack = None
    if ack is None:
        return _error(401, "bad_signature", "the webhook signature does not match")
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


def _with_query(connector: Connector, headers: Any) -> Any:
    """The request headers, plus the query fields the connector reads (its
    ``webhook_query_fields``) as ``X-Webhook-Query-<name>``; the headers alone when none."""
    names = getattr(connector, "webhook_query_fields", ())
    if not names:
        return headers
    given = dict(headers.items())
    for name in names:
        if name in request.args:
            given[f"X-Webhook-Query-{name}"] = request.args[name]
    return given


def _connector(connection_id: int, target: Row) -> Connector:
    """The process's connector for this connection, rebuilt when its settings or its encrypted
    credentials differ from the ones it was built from (decrypting once per change)."""
    cache: ConnectorCache = current_app.extensions.setdefault(
        "hub.webhook_connectors", ConnectorCache(CACHE_SIZE)
    )
    key = (target.platform, target.settings, target.credentials_enc)
    connector = cache.get(connection_id, key)
    if connector is None:
        # interactive: should verifying a push ever call the platform, the platform's sender
        # waits, so the call is short (HUB_PLATFORM_WEB_TIMEOUT) and never retried
        connector = runtime.connector_for(target, interactive=True)
        cache.put(connection_id, key, connector)
    return connector


class ConnectorCache:
    """A small thread-safe LRU: connection id -> (what it was built from, connector)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[tuple, Connector]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, connection_id: int, key: tuple) -> Connector | None:
        with self._lock:
            item = self._items.get(connection_id)
            if item is None or item[0] != key:
                return None
            self._items.move_to_end(connection_id)
            return item[1]

    def put(self, connection_id: int, key: tuple, connector: Connector) -> None:
        with self._lock:
            self._items[connection_id] = (key, connector)
            self._items.move_to_end(connection_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _verified(connector: Any, headers: Any, body: bytes, connection_id: int) -> bool:
    try:
        return bool(connector.verify_webhook(headers, body))
    except Exception:  # a malformed signature header is a failed verification
        log.warning("webhook verification raised for connection %s", connection_id, exc_info=True)
        return False


def _store(
    sql: Connection,
    connection_id: int,
    target: Row,
    info: Any,
    headers: dict[str, str],
    body: bytes,
) -> int | None:
    """Insert the inbox row; None when this delivery id was already stored (a retry)."""
    values = {
        "workspace_id": target.workspace_id,
        "connection_id": connection_id,
        "platform": target.platform,
        "delivery_id": str(info.delivery_id)[:200],
        "topic": (info.topic or None) and str(info.topic)[:100],
        "headers": headers,
        "body": body,
        "status": "received",
        "attempts": 0,
        "received_at": utcnow(),
    }
    try:
        row_id = sql.execute(INSERT, values).inserted_primary_key[0]
        sql.commit()
    except IntegrityError:
        sql.rollback()
        log.info("duplicate webhook %s for connection %s", info.delivery_id, connection_id)
        return None
    return int(row_id)
