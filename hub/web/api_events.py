"""GET /events: the workspace's event stream, paged, newest first (issue 25).

``?type=&customer_id=&source=&from=&to=&page=&per_page=``; items as the customer timeline's:
id, type, customer_id, order_id, occurred_at (ISO-8601 with offset), amount (a string),
source, properties."""

from __future__ import annotations

from typing import Any

from flask import request

from hub.queries import events as q_events
from hub.web import api_serial as ser
from hub.web.api_base import bp, paged, workspace_id
from hub.web.zones import workspace_zone


@bp.get("/events")
def events() -> Any:
    filters = q_events.EventFilter.from_args(request.args, workspace_zone())
    return paged(q_events.search(workspace_id(), filters), ser.event)
