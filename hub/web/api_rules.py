"""Automation rules (A1): POST/GET /rules, GET/PATCH/DELETE /rules/<id>, GET /rules/<id>/runs,
POST /rules/<id>/test (a dry run over the last N events) and /rules/<id>/backfill (a count
first, then, confirmed, the firing)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from hub.automation import actions as acts
from hub.automation import rules as engine
from hub.models import Event, Rule, RuleRun
from hub.services import rules as service
from hub.web.api_base import bp, json_body, paged, workspace_id


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "trigger": engine.trigger_of(rule),
        "conditions": rule.conditions,
        "actions": acts.public(rule.actions),
        "enabled": rule.enabled,
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat() if rule.updated_at else None,
        "backfilled_at": rule.backfilled_at.isoformat() if rule.backfilled_at else None,
    }


def run_json(run: RuleRun, event: Event | None = None) -> dict[str, Any]:
    return {
        "id": run.id,
        "event": {"id": run.event_id, "key": run.event_key}
        | (
            {}
            if event is None
            else {
                "type": event.type,
                "occurred_at": event.occurred_at.isoformat(),
                "amount": None if event.amount is None else str(event.amount),
                "source": event.source,
                "order_id": event.order_id,
            }
        ),
        "customer_id": run.customer_id,
        "actions": run.actions,
        "outcome": run.outcome,
        "created_at": run.created_at.isoformat(),
    }


@bp.post("/rules")
def create_rule() -> Any:
    rule = service.create(workspace_id(), json_body())
    return jsonify(rule_json(rule)), 201


@bp.get("/rules")
def list_rules() -> Any:
    return paged(service.listing(workspace_id()), rule_json)


@bp.get("/rules/<int:rule_id>")
def get_rule(rule_id: int) -> Any:
    return jsonify(rule_json(service.get(workspace_id(), rule_id)))


@bp.patch("/rules/<int:rule_id>")
def update_rule(rule_id: int) -> Any:
    return jsonify(rule_json(service.update(workspace_id(), rule_id, json_body())))


@bp.delete("/rules/<int:rule_id>")
def delete_rule(rule_id: int) -> Any:
    service.remove(workspace_id(), rule_id)
    return jsonify(deleted=rule_id)


@bp.get("/rules/<int:rule_id>/runs")
def rule_runs(rule_id: int) -> Any:
    return paged(service.runs(workspace_id(), rule_id), run_json, with_page=service.run_events)


@bp.post("/rules/<int:rule_id>/test")
def test_rule(rule_id: int) -> Any:
    """A dry run: which of the last N events of the rule's trigger would fire it."""
    last = json_body().get("last", 20)
    return jsonify(events=service.dry_run(workspace_id(), rule_id, last))


@bp.post("/rules/<int:rule_id>/backfill")
def backfill_rule(rule_id: int) -> Any:
    """``{"confirm": false}``: how many past events it would fire on; ``true``: fire them."""
    confirm = json_body().get("confirm", False)
    count = service.backfill(workspace_id(), rule_id, confirm)
    return jsonify(count=count, fired=confirm)
