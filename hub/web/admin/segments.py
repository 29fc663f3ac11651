"""Segments (A2): the list, a builder (rows of field / op / value, matched all or any, with a
live count from ``/segments/preview``), the members with CSV export and "save as group".

The builder's rows become the filter of ``hub.automation.conditions``: ``row-<i>-field``,
``-op``, ``-value`` (a comma-separated list for "is one of"), and for the "bought" / "did
event" predicates ``-what`` (product id, SKU or name contains), ``-count`` and ``-days``. A
filter the rows cannot show (nested all / any, from the API) is edited as JSON."""

from __future__ import annotations

import functools
import json
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from hub.automation import segments as service
from hub.automation.vocabulary import BOUGHT_KEYS, CUSTOMER_FIELDS, RFM_NAMES
from hub.core.errors import HubError
from hub.extensions import db
from hub.models import Segment
from hub.queries import customers as q_customers
from hub.web import csv_export
from hub.web.admin.common import error_text, paginate, scoped_or_404
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import N_, _

bp = Blueprint("segments", __name__, url_prefix="/segments")

ROWS = 6  # rows the builder shows; blank ones are left out
FIELD_LABELS = {
    "stage": N_("Stage"),
    "score": N_("Activity score"),
    "tags": N_("Tags"),
    "groups": N_("Groups"),
    "source": N_("Source"),
    "orders_count": N_("Orders"),
    "total_spent": N_("Total spent"),
    "created_at": N_("First order / in the hub since"),
    "identity": N_("Has identity"),
    "bought": N_("Bought (times within days)"),
    "did_event": N_("Did event (times within days)"),
    "rfm": N_("RFM segment"),
    "segment": N_("In segment (id)"),
}
OP_LABELS = {
    "eq": N_("is"),
    "ne": N_("is not"),
    "gt": N_("more than"),
    "gte": N_("at least"),
    "lt": N_("less than"),
    "lte": N_("at most"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "contains": N_("contains"),
    "not_contains": N_("does not contain"),
    "exists": N_("is set"),
    "not_exists": N_("is not set"),
}
WHAT_LABELS = {
    "product_id": N_("product id"),
    "sku": N_("SKU"),
    "name_contains": N_("name contains"),
}


def _builder(**context: Any) -> Any:
    fields = [(k, FIELD_LABELS.get(k, k)) for k in [*CUSTOMER_FIELDS, "source"]]
    return render_template(
        "admin/segment_edit.html",
        fields=fields,
        op_labels=OP_LABELS,
        what_labels=[(k, WHAT_LABELS[k]) for k in BOUGHT_KEYS],
        rfm_names=RFM_NAMES,
        rows=ROWS,
        **context,
    )


@bp.get("")
@login_required
def index() -> Any:
    stmt = select_segments(workspace_id())
    return render_template("admin/segments.html", pager=paginate(stmt))


def select_segments(ws: int) -> Any:
    from sqlalchemy import select

    return select(Segment).where(Segment.workspace_id == ws).order_by(Segment.name)


@bp.get("/new")
@admin_required
def new() -> Any:
    return _builder(segment=None, name="", match="all", leaves=[], raw=None)


@bp.post("")
@admin_required
def create() -> Any:
    try:
        tree = filter_from_form(request.form)
        data = {"name": request.form.get("name", ""), "filter": tree}
        segment = service.create(db.session, workspace_id(), data)
    except HubError as exc:
        db.session.rollback()
        flash(error_text(exc), "error")
        return _again(None)
    db.session.commit()
    flash(_("Segment “%(n)s” saved.", n=segment.name), "success")
    return redirect(url_for("segments.detail", segment_id=segment.id))


@bp.get("/<int:segment_id>/edit")
@admin_required
def edit(segment_id: int) -> Any:
    scoped_or_404(Segment, segment_id)
    segment = service.get(db.session, workspace_id(), segment_id)
    match, leaves = rows_of(segment.filter)
    raw = None if leaves is not None else json.dumps(segment.filter, ensure_ascii=False, indent=1)
    return _builder(segment=segment, name=segment.name, match=match, leaves=leaves or [], raw=raw)


@bp.post("/<int:segment_id>")
@admin_required
def update(segment_id: int) -> Any:
    scoped_or_404(Segment, segment_id)
    try:
        tree = filter_from_form(request.form)
        data = {"name": request.form.get("name", ""), "filter": tree}
        segment = service.update(db.session, workspace_id(), segment_id, data)
    except HubError as exc:
        db.session.rollback()
        flash(error_text(exc), "error")
        return _again(service.get(db.session, workspace_id(), segment_id))
    db.session.commit()
    flash(_("Segment “%(n)s” saved.", n=segment.name), "success")
    return redirect(url_for("segments.detail", segment_id=segment.id))


def _again(segment: Segment | None) -> Any:
    """The builder again with what was sent, after a refusal."""
    form = request.form
    raw = form.get("filter_json") or None
    leaves = [] if raw else _form_rows(form)
    match = form.get("match", "all")
    return _builder(segment=segment, name=form.get("name", ""), match=match, leaves=leaves, raw=raw)


@bp.post("/preview")
@login_required
def preview() -> Any:
    """The builder's live count (hub.js): how many customers the form's filter holds now."""
    try:
        tree = filter_from_form(request.form)
        return jsonify(count=service.count(db.session, workspace_id(), tree))
    except HubError as exc:
        return jsonify(error=error_text(exc), field=getattr(exc, "field", None)), 400


@bp.get("/<int:segment_id>")
@login_required
def detail(segment_id: int) -> Any:
    scoped_or_404(Segment, segment_id)
    ws = workspace_id()
    segment = service.get(db.session, ws, segment_id)
    pager = paginate(service.members(db.session, ws, segment_id))
    facts = q_customers.facts(ws, (c.id for c in pager.items))
    return render_template(
        "admin/segment_detail.html",
        segment=segment,
        pager=pager,
        facts=facts,
        no_facts=q_customers.NO_FACTS,
        filter_json=json.dumps(segment.filter, ensure_ascii=False),
    )


@bp.get("/<int:segment_id>/customers.csv")
@login_required
def export(segment_id: int) -> Any:
    scoped_or_404(Segment, segment_id)
    ws = workspace_id()
    segment = service.get(db.session, ws, segment_id)
    rows = functools.partial(q_customers.rows_of, stmt=service.members(db.session, ws, segment_id))
    return csv_export.response(f"segment-{segment.id}.csv", q_customers.EXPORT_HEADER, rows)


@bp.post("/<int:segment_id>/group")
@admin_required
def to_group(segment_id: int) -> Any:
    scoped_or_404(Segment, segment_id)
    try:
        group = service.save_as_group(
            db.session, workspace_id(), segment_id, request.form.get("name", "")
        )
    except HubError as exc:
        db.session.rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("segments.detail", segment_id=segment_id))
    db.session.commit()
    flash(_("Group “%(g)s” created with the segment's members.", g=group.name), "success")
    return redirect(url_for("catalog.group", group_id=group.id))


@bp.post("/<int:segment_id>/delete")
@admin_required
def delete(segment_id: int) -> Any:
    scoped_or_404(Segment, segment_id)
    try:
        service.delete(db.session, workspace_id(), segment_id)
    except HubError as exc:
        db.session.rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("segments.detail", segment_id=segment_id))
    db.session.commit()
    flash(_("Segment deleted."), "success")
    return redirect(url_for("segments.index"))


# --- the builder's form <-> the filter tree -----------------------------------------------


def filter_from_form(form: MultiDict[str, str]) -> Any:
    """The filter the builder's form describes (checked later by the service)."""
    raw = (form.get("filter_json") or "").strip()
    if raw:
        try:
            return json.loads(raw)
        except ValueError:
            from hub.core.errors import N_ as mark
            from hub.core.errors import Refused

            raise Refused(mark("filter: the JSON cannot be read."), field="filter") from None
    leaves = [_leaf(row) for row in _form_rows(form)]
    return {"any": leaves} if form.get("match") == "any" else leaves


def _form_rows(form: MultiDict[str, str]) -> list[dict[str, str]]:
    keys = ("field", "op", "value", "what", "count", "days")
    rows = []
    for i in range(ROWS):
        row = {k: (form.get(f"row-{i}-{k}") or "").strip() for k in keys}
        if row["field"]:
            rows.append(row)
    return rows


def _leaf(row: dict[str, str]) -> dict[str, Any]:
    field, op, value = row["field"], row["op"], row["value"]
    if field in ("bought", "did_event"):
        key = "type" if field == "did_event" else (row["what"] or "sku")
        counted: dict[str, Any] = {key: value, "count": _number(row["count"] or "1")}
        if row["days"]:
            counted["within_days"] = _number(row["days"])
        return {"field": field, "op": "gte", "value": counted}
    leaf: dict[str, Any] = {"field": field, "op": op}
    if op in ("in", "not_in"):
        leaf["value"] = [v.strip() for v in value.split(",") if v.strip()]
    elif op not in ("exists", "not_exists") or field == "identity":
        leaf["value"] = value
    return leaf


def _number(text: str) -> int | str:
    """A whole number typed in the form as an int; anything else as typed (the check says)."""
    return int(text) if text.isdigit() else text


def rows_of(tree: Any) -> tuple[str, list[dict[str, Any]] | None]:
    """The builder's rows for a saved filter: (all | any, rows), rows None when the filter
    does not fit them (nested groups, more rows than the builder has)."""
    match, items = "all", tree
    if isinstance(tree, dict) and set(tree) in ({"all"}, {"any"}):
        match, items = next(iter(tree)), next(iter(tree.values()))
    if not isinstance(items, list) or len(items) > ROWS:
        return match, None
    rows = []
    for item in items:
        if not isinstance(item, dict) or "field" not in item:
            return match, None
        rows.append(_row(item))
    return match, rows


def _row(leaf: dict[str, Any]) -> dict[str, Any]:
    value = leaf.get("value")
    row = {"field": leaf["field"], "op": leaf.get("op", ""), "value": "", "what": "", "count": "",
           "days": ""}  # fmt: skip
    if isinstance(value, dict):
        what = next((k for k in (*BOUGHT_KEYS, "type") if k in value), "")
        row.update(what=what, value=str(value.get(what, "")), count=str(value.get("count", "")),
                   days=str(value.get("within_days") or ""))  # fmt: skip
    elif isinstance(value, list):
        row["value"] = ", ".join(map(str, value))
    elif value is not None:
        row["value"] = str(value)
    return row
