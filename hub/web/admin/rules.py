"""Automation rules (A1) in the admin UI: the list with its enabled toggle, a form-built editor
with the API's vocabulary (trigger, condition rows with all/any, action rows), the run history
per rule, the backfill with its count shown before anything fires, and the dry run ("Test
this rule": what it would fire on, as the API's POST /rules/<id>/test)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from hub.automation import actions as acts
from hub.automation import conditions
from hub.automation.triggers import TIME_TRIGGERS
from hub.core.errors import HubError, Refused
from hub.core.plan.settings import STAGES
from hub.extensions import db
from hub.models import RuleRun
from hub.services import rules as service
from hub.web.admin.common import error_text
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import N_, _

bp = Blueprint("rules", __name__, url_prefix="/rules")

OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "not_contains",
       "exists", "not_exists")  # fmt: skip
TRIGGER_LABELS = {
    "first_purchase": N_("First purchase"),
    "purchase": N_("Purchase"),
    "return": N_("Return"),
    "cancel": N_("Cancel"),
    "checkout_abandoned": N_("Checkout abandoned (after hours)"),
    "no_purchase": N_("No purchase for days"),
}
ACTION_LABELS = {
    "add_tag": N_("Add tag"),
    "remove_tag": N_("Remove tag"),
    "add_to_group": N_("Add to static group"),
    "remove_from_group": N_("Remove from static group"),
    "advance_stage": N_("Advance stage to"),
    "change_score": N_("Change activity score by"),
    "webhook": N_("Call webhook (URL)"),
}
ROWS = 5  # blank condition and action rows offered by the editor
TEST_EVENTS = 20  # the dry run's default number of events
_VALUE_KEY = {"add_tag": "tag", "remove_tag": "tag", "add_to_group": "group",
              "remove_from_group": "group", "advance_stage": "stage", "change_score": "delta",
              "webhook": "url"}  # fmt: skip


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    found = db.session.scalars(service.listing(ws)).all()
    counts = dict(
        db.session.execute(
            select(RuleRun.rule_id, func.count())
            .where(RuleRun.workspace_id == ws)
            .group_by(RuleRun.rule_id)
        ).all()
    )
    return render_template("admin/rules.html", rules=found, counts=counts,
                           triggers=TRIGGER_LABELS, actions=ACTION_LABELS)  # fmt: skip


@bp.post("/<int:rule_id>/toggle")
@admin_required
def toggle(rule_id: int) -> Any:
    rule = service.get(workspace_id(), rule_id)
    service.update(workspace_id(), rule_id, {"enabled": not rule.enabled})
    return redirect(url_for("rules.index"))


def _editor(form: dict[str, Any], rule_id: int | None = None, error: str | None = None) -> str:
    return render_template(
        "admin/rule_edit.html", form=form, rule_id=rule_id, error=error, ops=OPS,
        fields=conditions.fields("event"), stages=STAGES, triggers=TRIGGER_LABELS,
        actions=ACTION_LABELS, rows=ROWS,
    )  # fmt: skip


def _form_of(rule: Any) -> dict[str, Any]:
    """The editor's values of a stored rule."""
    tree = rule.conditions or []
    match = "any" if isinstance(tree, dict) and "any" in tree else "all"
    leaves = tree.get(match, []) if isinstance(tree, dict) else tree
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        "after_hours": rule.after_hours or "",
        "days": rule.days or "",
        "enabled": rule.enabled,
        "match": match,
        "conditions": [
            {"field": c.get("field", ""), "op": c.get("op", ""), "value": _shown(c.get("value"))}
            for c in leaves
            if isinstance(c, dict) and "field" in c
        ],
        "actions": [
            {
                "type": a["type"],
                "value": a.get(_VALUE_KEY[a["type"]], ""),
                "secret": acts.MASK if a["type"] == "webhook" else "",
            }
            for a in rule.actions
        ],  # fmt: skip
    }


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _value(op: str, text: str) -> Any:
    """A condition row's value: JSON for a list or an object, a comma list for in/not_in."""
    text = text.strip()
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    if op in ("in", "not_in"):
        return [v.strip() for v in text.split(",") if v.strip()]
    return text


def _posted() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the editor's values as posted, the rule as the API takes it)."""
    f = request.form
    rows = zip(f.getlist("cond_field"), f.getlist("cond_op"), f.getlist("cond_value"),
               strict=False)  # fmt: skip
    leaves = []
    for field, op, text in rows:
        if not field.strip():
            continue
        leaf: dict[str, Any] = {"field": field.strip(), "op": op}
        if op not in ("exists", "not_exists"):
            leaf["value"] = _value(op, text)
        leaves.append(leaf)
    actions = []
    for type_, text, secret in zip(f.getlist("action_type"), f.getlist("action_value"),
                                   f.getlist("action_secret"), strict=False):  # fmt: skip
        if not type_:
            continue
        value: Any = text.strip()
        if type_ == "change_score" and value.lstrip("-").isdigit():
            value = int(value)  # anything else: validation names the row
        action = {"type": type_, _VALUE_KEY.get(type_, "value"): value}
        if type_ == "webhook":
            action["secret"] = secret
        actions.append(action)
    match = "any" if f.get("match") == "any" else "all"
    trigger: dict[str, Any] = {"type": f.get("trigger", "")}
    for key in ("after_hours", "days"):
        if f.get(key, "").strip():
            try:
                trigger[key] = int(f[key])
            except ValueError:
                trigger[key] = f[key]
    data = {
        "name": f.get("name", ""),
        "trigger": trigger,
        "conditions": {match: leaves} if leaves else [],
        "actions": actions,
        "enabled": f.get("enabled") == "on",
    }
    form = {
        "name": data["name"], "trigger": trigger["type"], "after_hours": f.get("after_hours", ""),
        "days": f.get("days", ""), "enabled": data["enabled"], "match": match,
        "conditions": [{"field": c["field"], "op": c["op"], "value": _shown(c.get("value"))}
                       for c in leaves],
        "actions": [{"type": a["type"], "value": a.get(_VALUE_KEY.get(a["type"], "value"), ""),
                     "secret": a.get("secret", "")} for a in actions],
    }  # fmt: skip
    return form, data


@bp.get("/new")
@admin_required
def new() -> Any:
    return _editor({"match": "all", "enabled": True, "trigger": "first_purchase",
                    "conditions": [], "actions": []})  # fmt: skip


@bp.post("/new")
@admin_required
def create() -> Any:
    form, data = _posted()
    try:
        service.create(workspace_id(), data)
    except Refused as exc:
        db.session.rollback()
        return _editor(form, error=_error(exc)), 400
    flash(_("Rule saved. It fires on events recorded from now on."), "success")
    return redirect(url_for("rules.index"))


@bp.get("/<int:rule_id>")
@admin_required
def edit(rule_id: int) -> Any:
    return _editor(_form_of(service.get(workspace_id(), rule_id)), rule_id)


@bp.post("/<int:rule_id>")
@admin_required
def save(rule_id: int) -> Any:
    service.get(workspace_id(), rule_id)
    form, data = _posted()
    try:
        service.update(workspace_id(), rule_id, data)
    except Refused as exc:
        db.session.rollback()
        return _editor(form, rule_id, error=_error(exc)), 400
    flash(_("Rule saved."), "success")
    return redirect(url_for("rules.index"))


def _error(exc: HubError) -> str:
    field = getattr(exc, "field", None)
    text = error_text(exc)
    return text if not field or field in text else f"{field}: {text}"


@bp.post("/<int:rule_id>/delete")
@admin_required
def delete(rule_id: int) -> Any:
    service.remove(workspace_id(), rule_id)
    flash(_("Rule deleted, with its run history."), "success")
    return redirect(url_for("rules.index"))


@bp.get("/<int:rule_id>/runs")
@login_required
def runs(rule_id: int) -> Any:
    rule = service.get(workspace_id(), rule_id)
    found = db.session.scalars(service.runs(workspace_id(), rule_id).limit(200)).all()
    events = service.run_events(list(found))
    return render_template("admin/rule_runs.html", rule=rule, runs=found, events=events,
                           triggers=TRIGGER_LABELS, actions=ACTION_LABELS)  # fmt: skip


@bp.get("/<int:rule_id>/backfill")
@admin_required
def backfill_count(rule_id: int) -> Any:
    """The count first: how many past events the rule would fire on (nothing written)."""
    rule = service.get(workspace_id(), rule_id)
    count = service.backfill(workspace_id(), rule_id, False)
    return render_template("admin/rule_backfill.html", rule=rule, count=count,
                           triggers=TRIGGER_LABELS)  # fmt: skip


@bp.post("/<int:rule_id>/backfill")
@admin_required
def backfill(rule_id: int) -> Any:
    done = service.backfill(workspace_id(), rule_id, True)
    flash(_("The rule fired on %(n)s past events.", n=done), "success")
    return redirect(url_for("rules.runs", rule_id=rule_id))


@bp.get("/<int:rule_id>/test")
@login_required
def test(rule_id: int) -> Any:
    """The dry run: which of the last N events would fire the rule (a time rule: what the
    scheduler would fire it on now); nothing is written."""
    rule = service.get(workspace_id(), rule_id)
    last = request.args.get("last", TEST_EVENTS, type=int)
    try:
        found = service.dry_run(workspace_id(), rule_id, last)
    except Refused as exc:
        flash(_error(exc), "error")
        found = []
    rule = service.get(workspace_id(), rule_id)
    items = [
        {**item, "at": datetime.fromisoformat(item["event"]["occurred_at"]),
         "amount": None if item["event"]["amount"] is None else Decimal(item["event"]["amount"]),
         "due": datetime.fromisoformat(item["due_at"]) if item.get("due_at") else None}
        for item in found
    ]  # fmt: skip
    timed = rule.trigger in TIME_TRIGGERS
    return render_template("admin/rule_test.html", rule=rule, items=items, last=last,
                           timed=timed, triggers=TRIGGER_LABELS)  # fmt: skip
