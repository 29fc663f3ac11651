"""Admin writes and reads of automation rules (A1), for the API and the admin UI alike. Every
function is scoped to a workspace and raises ``NotFound`` for a rule of another workspace or
``Refused`` (naming the path, e.g. ``actions[1].stage``) for input it will not take."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select

from hub.automation import actions as acts
from hub.automation import outbox, rules
from hub.core.errors import N_, NotFound, Refused
from hub.extensions import db
from hub.models import Event, Rule, RuleRun, utcnow

MAX_TEST_EVENTS = 500


def get(workspace_id: int, rule_id: int) -> Rule:
    rule = db.session.get(Rule, rule_id)
    if rule is None or rule.workspace_id != workspace_id:
        raise NotFound(f"rule {rule_id} not found")
    return rule


def listing(workspace_id: int) -> Select[Any]:
    return select(Rule).where(Rule.workspace_id == workspace_id).order_by(Rule.id)


def create(workspace_id: int, data: dict[str, Any]) -> Rule:
    """A new rule: it fires on events recorded from now on (the past is the backfill's)."""
    values = rules.validate(data, allow_private=outbox.allow_private())
    rule = Rule(workspace_id=workspace_id, created_at=utcnow(), **values)
    db.session.add(rule)
    db.session.commit()
    return rule


def update(workspace_id: int, rule_id: int, data: dict[str, Any]) -> Rule:
    """Change what is sent; a webhook action sent back with the masked secret keeps the
    stored secret of the action at the same place with the same URL."""
    rule = get(workspace_id, rule_id)
    if isinstance(data.get("actions"), list):
        data = {**data, "actions": _keep_secrets(rule.actions, data["actions"])}
    for key, value in rules.validate(data, allow_private=outbox.allow_private(), rule=rule).items():
        setattr(rule, key, value)
    db.session.commit()
    return rule


def _keep_secrets(stored: list[dict[str, Any]], sent: list[Any]) -> list[Any]:
    out = []
    for i, action in enumerate(sent):
        old = stored[i] if i < len(stored) else {}
        if (
            isinstance(action, dict)
            and action.get("type") == "webhook"
            and action.get("secret") == acts.MASK
            and old.get("type") == "webhook"
            and old.get("url") == action.get("url")
        ):
            action = {**action, "secret": old["secret"]}
        out.append(action)
    return out


def remove(workspace_id: int, rule_id: int) -> None:
    """Delete the rule and its run history."""
    rule = get(workspace_id, rule_id)
    db.session.execute(delete(RuleRun).where(RuleRun.rule_id == rule.id))
    db.session.delete(rule)
    db.session.commit()


def runs(workspace_id: int, rule_id: int) -> Select[Any]:
    """The rule's runs, newest first."""
    rule = get(workspace_id, rule_id)
    return select(RuleRun).where(RuleRun.rule_id == rule.id).order_by(RuleRun.id.desc())


def run_events(page: list[RuleRun]) -> dict[int, Event | None]:
    """The events of a page of runs, by run id (None: the event is gone)."""
    ids = {r.event_id for r in page if r.event_id is not None}
    found = {e.id: e for e in db.session.scalars(select(Event).where(Event.id.in_(ids)))}
    return {r.id: found.get(r.event_id) if r.event_id else None for r in page}


def dry_run(workspace_id: int, rule_id: int, last: Any) -> list[dict[str, Any]]:
    """Which of the last ``last`` events of the rule's trigger would fire it; writes nothing."""
    rule = get(workspace_id, rule_id)
    if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= MAX_TEST_EVENTS:
        raise Refused(N_("%(path)s must be a whole number from 1 to %(max)s."), field="last",
                      path="last", max=MAX_TEST_EVENTS)  # fmt: skip
    try:
        return rules.dry_run(db.session(), rule, utcnow(), last)
    finally:
        db.session.rollback()


def backfill(workspace_id: int, rule_id: int, confirm: Any) -> int:
    """How many past events the rule would fire on; ``confirm`` true: fire them, committed."""
    rule = get(workspace_id, rule_id)
    if not isinstance(confirm, bool):
        raise Refused(N_("%(path)s must be true or false."), field="confirm", path="confirm")
    count = rules.backfill(db.session(), rule, utcnow(), confirm=confirm)
    if confirm:
        db.session.commit()
    else:
        db.session.rollback()
    return count
