"""GET /deals (source, stage, customer_id, page) and /deals/<id>: the ecommerce pipeline (H5)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from hub.queries import deals as q_deals
from hub.web import api_serial as ser
from hub.web.api_base import bp, paged, workspace_id


@bp.get("/deals")
def deals() -> Any:
    filters = q_deals.DealFilter.from_args(request.args)
    return paged(q_deals.search(workspace_id(), filters), ser.deal, with_page=q_deals.line_items)


@bp.get("/deals/<int:deal_id>")
def deal(deal_id: int) -> Any:
    found = q_deals.get(workspace_id(), deal_id)
    return jsonify(ser.deal(found, q_deals.line_items([found])[found.id]))
