"""The outbound webhook delivery log (A1): GET /webhook-deliveries (status, rule_id, page),
GET /webhook-deliveries/<id> (with its attempts), POST /webhook-deliveries/<id>/redeliver (an
attempt now, same webhook-id and body), and the targets disabled by 410 Gone:
GET /webhook-targets/disabled, POST /webhook-targets/enable {"url"}."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from hub.automation import delivery
from hub.core.errors import N_, NotFound, Refused
from hub.extensions import db
from hub.models import OutboxAttempt, OutboxDelivery
from hub.queries import outbox as q_outbox
from hub.web.api_base import bp, json_body, paged, workspace_id


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def attempt_json(row: OutboxAttempt) -> dict[str, Any]:
    return {
        "attempted_at": _iso(row.attempted_at),
        "status_code": row.status_code,
        "duration_ms": row.duration_ms,
        "error": row.error,
        "response_excerpt": row.response_excerpt,
        "manual": row.manual,
    }


def delivery_json(row: OutboxDelivery, attempts: list[OutboxAttempt] | None = None) -> dict:
    """A delivery as the API shows it: never its secret."""
    return {
        "id": row.id,
        "webhook_id": row.msg_id,
        "rule_id": row.rule_id,
        "rule_run_id": row.rule_run_id,
        "url": row.url,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "next_attempt_at": _iso(row.next_attempt_at) if row.status == "pending" else None,
        "created_at": _iso(row.created_at),
        "delivered_at": _iso(row.delivered_at),
        "attempt_log": [attempt_json(a) for a in attempts or []],
    }


def attempts_of(ids: list[int]) -> dict[int, list[OutboxAttempt]]:
    out: dict[int, list[OutboxAttempt]] = {i: [] for i in ids}
    if ids:
        query = select(OutboxAttempt).where(OutboxAttempt.delivery_id.in_(ids))
        for row in db.session.scalars(query.order_by(OutboxAttempt.id)):
            out[row.delivery_id].append(row)
    return out


def get(ws: int, delivery_id: int) -> OutboxDelivery:
    row = db.session.scalar(
        select(OutboxDelivery).where(
            OutboxDelivery.id == delivery_id, OutboxDelivery.workspace_id == ws
        )
    )
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    return row


@bp.get("/webhook-deliveries")
def webhook_deliveries() -> Any:
    stmt = q_outbox.deliveries(
        workspace_id(), request.args.get("status"), request.args.get("rule_id")
    )
    with_attempts = lambda rows: attempts_of([r.id for r in rows])  # noqa: E731
    return paged(stmt, delivery_json, with_page=with_attempts)


@bp.get("/webhook-deliveries/<int:delivery_id>")
def webhook_delivery(delivery_id: int) -> Any:
    row = get(workspace_id(), delivery_id)
    return jsonify(delivery_json(row, attempts_of([row.id])[row.id]))


@bp.post("/webhook-deliveries/<int:delivery_id>/redeliver")
def redeliver_webhook(delivery_id: int) -> Any:
    row = delivery.redeliver(workspace_id(), delivery_id)
    return jsonify(delivery_json(row, attempts_of([row.id])[row.id]))


@bp.get("/webhook-targets/disabled")
def disabled_targets() -> Any:
    rows = q_outbox.disabled_targets(workspace_id())
    items = [{"url": r.url, "reason": r.reason, "disabled_at": _iso(r.disabled_at)} for r in rows]
    return jsonify(items=items)


@bp.post("/webhook-targets/enable")
def enable_target() -> Any:
    url = json_body().get("url")
    if not isinstance(url, str) or not url:
        raise Refused(N_("url: the disabled target's URL is required"), field="url")
    if not delivery.enable_target(db.session, workspace_id(), url):
        raise NotFound(f"{url} is not a disabled webhook target")
    db.session.commit()
    return jsonify(url=url, enabled=True)
