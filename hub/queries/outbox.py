"""Reads of the outbound webhook log (A1): the workspace's deliveries, newest first, for the
API (``/webhook-deliveries``) and the Outbound webhooks page alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from hub.core.errors import N_, Refused
from hub.extensions import db
from hub.models import OutboxDelivery, OutboxDisabledTarget
from hub.models.outbox import OUTBOX_STATUSES
from hub.services import parsing


def deliveries(workspace_id: int, status: str | None = None, rule_id: Any = None) -> Select[Any]:
    """The workspace's deliveries, newest first, by status and rule; Refused names a bad
    filter (``status``, ``rule_id``)."""
    stmt = select(OutboxDelivery).where(OutboxDelivery.workspace_id == workspace_id)
    if status:
        if status not in OUTBOX_STATUSES:
            raise Refused(
                N_("status must be one of %(allowed)s"), field="status",
                allowed=", ".join(OUTBOX_STATUSES),
            )  # fmt: skip
        stmt = stmt.where(OutboxDelivery.status == status)
    rule = parsing.record_id(rule_id, "rule_id")
    if rule is not None:
        stmt = stmt.where(OutboxDelivery.rule_id == rule)
    return stmt.order_by(OutboxDelivery.id.desc())


def disabled_targets(workspace_id: int) -> list[OutboxDisabledTarget]:
    """The targets a 410 disabled, oldest first."""
    return list(
        db.session.scalars(
            select(OutboxDisabledTarget)
            .where(OutboxDisabledTarget.workspace_id == workspace_id)
            .order_by(OutboxDisabledTarget.id)
        )
    )
