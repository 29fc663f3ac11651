"""Segments (A2): saved customer filters, their members, a count preview, CSV and groups.

POST /segments {"name", "filter"}; GET /segments, /segments/<id> (with its ``count`` now);
PATCH /segments/<id> {"name"?, "filter"?}; DELETE /segments/<id>;
GET /segments/<id>/customers (paged, the items of /customers) and /segments/<id>/customers.csv
(the columns of /customers.csv); POST /segments/preview {"filter"} -> {"count"} (nothing saved);
POST /segments/<id>/group {"name"} -> the new static group with the members now."""

from __future__ import annotations

import functools
from typing import Any

from flask import jsonify
from sqlalchemy import func, select

from hub.automation import segments as service
from hub.extensions import db
from hub.models import Group, GroupMember, Segment
from hub.queries import customers as q_customers
from hub.web import api_serial as ser
from hub.web import csv_export
from hub.web.api_base import allow, bp, json_body, paged, workspace_id


def segment_json(s: Segment, count: int | None = None) -> dict[str, Any]:
    out = {
        "id": s.id,
        "name": s.name,
        "filter": s.filter,
        "created_at": ser.when(s.created_at),
        "updated_at": ser.when(s.updated_at),
    }
    return out if count is None else {**out, "count": count}


@bp.get("/segments")
def list_segments() -> Any:
    stmt = select(Segment).where(Segment.workspace_id == workspace_id()).order_by(Segment.name)
    return paged(stmt, segment_json)


@bp.post("/segments")
def create_segment() -> Any:
    ws = workspace_id()
    segment = service.create(db.session, ws, json_body())
    db.session.commit()
    return jsonify(segment_json(segment, service.count(db.session, ws, segment.id))), 201


@bp.post("/segments/preview")
@allow("analyst")
def preview_segment() -> Any:
    """How many customers a filter holds now, while it is being edited (nothing is saved)."""
    tree = json_body().get("filter")
    service.check_filter(tree)
    return jsonify(count=service.count(db.session, workspace_id(), tree))


@bp.get("/segments/<int:segment_id>")
def get_segment(segment_id: int) -> Any:
    ws = workspace_id()
    segment = service.get(db.session, ws, segment_id)
    return jsonify(segment_json(segment, service.count(db.session, ws, segment.id)))


@bp.patch("/segments/<int:segment_id>")
def update_segment(segment_id: int) -> Any:
    ws = workspace_id()
    segment = service.update(db.session, ws, segment_id, json_body())
    db.session.commit()
    return jsonify(segment_json(segment, service.count(db.session, ws, segment.id)))


@bp.delete("/segments/<int:segment_id>")
def delete_segment(segment_id: int) -> Any:
    service.delete(db.session, workspace_id(), segment_id)
    db.session.commit()
    return jsonify(deleted=segment_id)


@bp.get("/segments/<int:segment_id>/customers")
def segment_customers(segment_id: int) -> Any:
    ws = workspace_id()
    return paged(
        service.members(db.session, ws, segment_id),
        ser.customer,
        with_page=lambda items: q_customers.facts(ws, (c.id for c in items)),
    )


@bp.get("/segments/<int:segment_id>/customers.csv")
def segment_customers_csv(segment_id: int) -> Any:
    """The members as streamed CSV, the columns of /customers.csv."""
    ws = workspace_id()
    segment = service.get(db.session, ws, segment_id)
    stmt = service.members(db.session, ws, segment_id)
    rows = functools.partial(q_customers.rows_of, stmt=stmt)
    name = f"segment-{segment.id}.csv"
    return csv_export.response(name, q_customers.EXPORT_HEADER, rows)


@bp.post("/segments/<int:segment_id>/group")
def segment_to_group(segment_id: int) -> Any:
    """A new static group holding the segment's members now (the group does not follow the
    segment afterwards)."""
    ws = workspace_id()
    group = service.save_as_group(db.session, ws, segment_id, json_body().get("name"))
    db.session.commit()
    size = db.session.scalar(
        select(func.count()).select_from(GroupMember).where(GroupMember.group_id == group.id)
    )
    return jsonify(group_json(group, size or 0)), 201


def group_json(g: Group, members: int) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "created_at": ser.when(g.created_at), "members": members}
