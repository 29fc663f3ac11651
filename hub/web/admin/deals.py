"""Deals (H5, H6): the ecommerce pipeline as a board of its six stages (count and amount of
each) above the list of deals, both filtered by source and stage; each deal links to its
customer and its order."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import login_required

from hub.core.plan.stages import STAGES
from hub.queries import customers as q_customers
from hub.queries import deals as q_deals
from hub.web.admin.common import paginate
from hub.web.auth import workspace_id
from hub.web.i18n import N_

bp = Blueprint("deals", __name__, url_prefix="/deals")

# The stages as the page names them (PLATFORMS.md §5, HubSpot's ecommerce pipeline).
STAGE_LABELS = {
    "checkout_abandoned": N_("Checkout abandoned"),
    "checkout_pending": N_("Checkout pending"),
    "checkout_completed": N_("Checkout completed"),
    "processed": N_("Processed"),
    "shipped": N_("Shipped"),
    "cancelled": N_("Cancelled"),
}
KIND_LABELS = {"order": N_("Order"), "checkout": N_("Checkout")}


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    # an unknown stage or a customer id that is none: the error page names the argument
    filters = q_deals.DealFilter.from_args(request.args)
    pager = paginate(q_deals.search(ws, filters))
    ids = {d.customer_id for d in pager.items if d.customer_id}
    return render_template(
        "admin/deals.html",
        pager=pager,
        board=q_deals.board(ws, q_deals.DealFilter(source=filters.source)),
        stages=STAGES,
        stage_labels=STAGE_LABELS,
        kind_labels=KIND_LABELS,
        stage=filters.stage or "",
        source=filters.source or "",
        sources=q_deals.sources(ws),
        names=q_customers.names(ws, ids),
    )
