"""Settings: event settings (Y10: stage advancement and activity score per event type), the
custom identities and properties imports map columns to (I2), the workspace's API tokens and
its time zone."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from hub.core import zones
from hub.core.errors import NotFound, ValidationFailed
from hub.core.plan.settings import STAGES
from hub.core.store import settings as event_settings
from hub.extensions import db
from hub.models import ApiToken, EventSetting
from hub.queries import workspace as q_workspace
from hub.services import customers, parsing, tokens, workspaces
from hub.web.admin.common import error_text
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import N_, _

bp = Blueprint("settings", __name__, url_prefix="/settings")

BUILTIN_TYPES = ("purchase", "return", "cancel", "first_purchase", "checkout_abandoned")
MAX_SCORE = 1000


def _event_types(ws: int) -> list[str]:
    return list(dict.fromkeys([*BUILTIN_TYPES, *q_workspace.event_types(ws)]))


@bp.get("/events")
@login_required
def events() -> Any:
    ws = workspace_id()
    return render_template(
        "admin/event_settings.html",
        types=_event_types(ws),
        settings=q_workspace.event_settings(ws),
        stages=STAGES,
        with_events=event_settings.customers_with_events(db.session, ws),
    )


def _parse(event_type: str) -> tuple[str | None, int]:
    stage = request.form.get(f"stage_{event_type}", "").strip() or None
    if stage is not None and stage not in STAGES:
        raise ValueError(_("Unknown stage “%(s)s” for “%(t)s”.", s=stage, t=event_type))
    raw = request.form.get(f"score_{event_type}")
    try:
        score = parsing.whole_number(raw, "score", default=0, low=-MAX_SCORE, high=MAX_SCORE)
    except ValidationFailed:
        raise ValueError(
            _(
                "Score for “%(t)s” must be a whole number from -1000 to 1000, such as 5 or -3.",
                t=event_type,
            )
        ) from None
    return stage, score


@bp.post("/events")
@admin_required
def save_events() -> Any:
    ws = workspace_id()
    current = q_workspace.event_settings(ws)
    try:
        parsed = {t: _parse(t) for t in _event_types(ws)}
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("settings.events"))
    for event_type, (stage, score) in parsed.items():
        row = current.get(event_type)
        if row is None and (stage or score):
            db.session.add(
                EventSetting(
                    workspace_id=ws,
                    event_type=event_type,
                    advance_to_stage=stage,
                    score_delta=score,
                )
            )
        elif row is not None:
            row.advance_to_stage, row.score_delta = stage, score
    db.session.commit()
    flash(_("Event settings saved. They apply to events recorded from now on."), "success")
    return redirect(url_for("settings.events"))


@bp.post("/events/apply")
@admin_required
def apply_events() -> Any:
    """Apply the event settings to existing customers: stage and score recomputed from their
    recorded events (set-based), stages forward only."""
    done = event_settings.recompute(db.session, workspace_id())
    db.session.commit()
    flash(
        _("Stage and activity score recomputed from the events of %(n)s customers.", n=done),
        "success",
    )
    return redirect(url_for("settings.events"))


@bp.get("/fields")
@login_required
def fields() -> Any:
    return render_template(
        "admin/custom_fields.html",
        fields=customers.list_fields(workspace_id()),
        builtin=customers.BUILTIN_IDENTITIES,
        form=request.args,
    )


@bp.post("/fields")
@admin_required
def create_field() -> Any:
    f = request.form
    try:
        field = customers.create_field(
            workspace_id(), f.get("kind", ""), f.get("name", ""), f.get("label")
        )
    except ValidationFailed as exc:
        flash(error_text(exc), "error")
        kept = {k: f.get(k, "") for k in ("kind", "name", "label")}
        return redirect(url_for("settings.fields", **kept))
    what = _("Identity") if field.kind == "identity" else _("Property")
    flash(
        _(
            "%(what)s “%(name)s” added. Imports can now map a column to it.",
            what=what,
            name=field.name,
        ),
        "success",
    )
    return redirect(url_for("settings.fields"))


@bp.post("/fields/<int:field_id>/delete")
@admin_required
def delete_field(field_id: int) -> Any:
    try:
        field = customers.delete_field(workspace_id(), field_id)
    except NotFound:
        abort(404)
    flash(
        _("“%(name)s” removed. Values already stored on customers are kept.", name=field.name),
        "success",
    )
    return redirect(url_for("settings.fields"))


@bp.get("/tokens")
@admin_required
def api_tokens() -> Any:
    return _tokens_page()


def _tokens_page(created: ApiToken | None = None, plaintext: str | None = None) -> Any:
    return render_template(
        "admin/api_tokens.html",
        tokens=tokens.list_tokens(workspace_id()),
        roles=ApiToken.ROLES,
        created=created,
        plaintext=plaintext,
    )


TOKEN_FORM_ERRORS = {
    "name": N_("Give the token a name that says what will use it, e.g. “nightly export”."),
    "role": N_("Choose the token's role: admin, analyst or read-only."),
}


@bp.post("/tokens")
@admin_required
def create_api_token() -> Any:
    """Create a token and show its value on this one answer: it is never shown again."""
    try:
        token, plaintext = tokens.create_token(
            workspace_id(),
            request.form.get("name", ""),
            user_id=int(current_user.id),
            role=request.form.get("role", ""),
        )
    except ValidationFailed as exc:
        hint = TOKEN_FORM_ERRORS.get(exc.field or "")
        flash(_(hint) if hint else error_text(exc), "error")
        return redirect(url_for("settings.api_tokens"))
    return _tokens_page(token, plaintext)


@bp.post("/tokens/<int:token_id>/revoke")
@admin_required
def revoke_api_token(token_id: int) -> Any:
    try:
        token = tokens.revoke(workspace_id(), token_id)
    except NotFound:
        abort(404)
    flash(_("Token “%(name)s” revoked. It no longer works.", name=token.name), "success")
    return redirect(url_for("settings.api_tokens"))


@bp.get("/workspace")
@login_required
def workspace() -> Any:
    ws = workspace_id()
    return render_template(
        "admin/workspace_settings.html",
        time_zone=request.args.get("time_zone") or q_workspace.time_zone(ws),
        zone_names=zones.names(),
    )


@bp.post("/workspace")
@admin_required
def save_workspace() -> Any:
    name = request.form.get("time_zone", "").strip()
    try:
        ws = workspaces.set_time_zone(workspace_id(), name)
    except ValidationFailed:
        flash(
            _(
                "Time zone: “%(name)s” is not a time zone name. Choose one from the list, "
                "such as Asia/Shanghai or Europe/London.",
                name=name[:64],
            ),
            "error",
        )
        return redirect(url_for("settings.workspace", time_zone=name[:64]))
    flash(
        _(
            "Time zone set to %(zone)s. Every time is now shown, and dates are filtered, in it.",
            zone=ws.time_zone,
        ),
        "success",
    )
    return redirect(url_for("settings.workspace"))
