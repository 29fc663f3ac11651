"""Webhook intake: ``POST /webhooks/<platform>/<connection-id>``.

Verify the signature on the raw body, store one inbox row per platform delivery id, enqueue
its processing on the "webhooks" queue, answer with the platform's expected body. No login;
the signature is the authentication. One insert and one enqueue: nothing else runs here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from hub import registry
from hub.extensions import db
from hub.models import Connection, WebhookDelivery
from hub.services.connections import connector_for
from hub.sync import inbox

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

DROPPED_HEADERS = frozenset({"cookie", "authorization"})


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


@bp.post("/<platform>/<int:connection_id>")
def receive(platform: str, connection_id: int) -> Any:
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return _error(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")
    conn = db.session.get(Connection, connection_id)
    if conn is None or not conn.is_bound or conn.platform != platform:
        return _error(404, "not_found", "no bound store at this address")
    if platform not in registry.connectors():
        return _error(404, "not_found", "no bound store at this address")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return _error(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")
    connector = connector_for(conn)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED_HEADERS}
    if not _verified(connector, request.headers, body, conn):
        return _error(401, "bad_signature", "the webhook signature does not match")
    try:
        info = connector.webhook_info(request.headers, body)
    except (ValueError, KeyError) as exc:
        return _error(400, "bad_delivery", f"cannot read the delivery: {exc}")
    delivery_id = _store(conn, info, headers, body)
    if delivery_id is not None:
        inbox.enqueue(delivery_id)
    ack = connector.webhook_ack()
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


def _verified(connector: Any, headers: Any, body: bytes, conn: Connection) -> bool:
    try:
        return bool(connector.verify_webhook(headers, body))
    except Exception:  # a malformed signature header is a failed verification
        log.warning("webhook verification raised for connection %s", conn.id, exc_info=True)
        return False


def _store(conn: Connection, info: Any, headers: dict[str, str], body: bytes) -> int | None:
    """Insert the inbox row; None when this delivery id was already stored (a retry)."""
    row = WebhookDelivery(
        workspace_id=conn.workspace_id,
        connection_id=conn.id,
        platform=conn.platform,
        delivery_id=str(info.delivery_id)[:200],
        topic=(info.topic or None) and str(info.topic)[:100],
        headers=headers,
        body=body,
        status="received",
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("duplicate webhook %s for connection %s", info.delivery_id, conn.id)
        return None
    return row.id
