"""The ecommerce dashboard (A3): KPIs and plotly charts for a date range and sources, drawn by
the plotly.js bundled in the plotly package (served from here, never from a CDN)."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_login import login_required

from hub.core import sources
from hub.queries import orders as q_orders
from hub.services import parsing
from hub.web.auth import workspace_id
from hub.web.i18n import N_, _
from hub.web.zones import zone_name

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _day(name: str) -> str | None:
    """The YYYY-MM-DD argument ``name`` (None when absent; a 400 page when it is no such day)."""
    day = parsing.day(request.args.get(name), name)
    return day.isoformat() if day else None


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    if not q_orders.any_order(ws):  # nothing to draw yet: one empty state (22.6)
        return render_template("dashboard/index.html", no_orders=True)
    from hub.analytics import dashboard, loaders  # pandas and plotly: only with orders to draw

    tz = zone_name()
    default_start, default_end = dashboard.default_range(ws, tz=tz)
    start = _day("start") or default_start
    end = _day("end") or default_end
    if start > end:
        start, end = end, start
    known = loaders.order_sources(ws)
    asked = {sources.key(s) for s in request.args.getlist("source")}  # any case (22.5)
    chosen = [s for s in known if s in asked]
    board = dashboard.build(ws, start, end, chosen or None, tz=tz)
    figures = {
        name: _translated(json.loads(fig.to_json()))
        for name, fig in board.figures.items()
        if name not in board.empty
    }
    return render_template(
        "dashboard/index.html",
        board=board,
        kpis=_formatted(board.kpis),
        figures=figures,
        titles=_titles(),
        hints=_empty_hints(),
        start=start,
        end=end,
        sources=known,
        chosen=chosen,
    )


def _titles() -> dict[str, str]:
    return {
        "revenue": _("Revenue over time"),
        "orders": _("Orders"),
        "aov": _("Average order value"),
        "new_vs_returning": _("New vs returning customers"),
        "top_products": _("Top products"),
        "revenue_by_source": _("Revenue by source"),
        "checkouts": _("Abandoned checkouts recovered"),
    }


# The words hub.analytics puts in figures (trace names, bar categories), shown translated.
CHART_WORDS = {
    "revenue": N_("Revenue"),
    "aov": N_("Average order value"),
    "orders": N_("Orders"),
    "new": N_("New customers"),
    "returning": N_("Returning customers"),
    "abandoned": N_("Abandoned"),
    "recovered": N_("Recovered"),
}


def _translated(figure: dict[str, Any]) -> dict[str, Any]:
    """``figure`` with its trace names and bar categories in the page's language."""
    for trace in figure.get("data", []):
        if trace.get("name") in CHART_WORDS:
            trace["name"] = _(CHART_WORDS[trace["name"]])
        axis = "y" if trace.get("orientation") == "h" else "x"
        if trace.get("type") == "bar" and isinstance(trace.get(axis), list):
            trace[axis] = [_(CHART_WORDS[v]) if v in CHART_WORDS else v for v in trace[axis]]
    return figure


def _empty_hints() -> dict[str, str]:
    """What a chart with nothing to draw says instead."""
    orders = _("No orders in this range.")
    return {
        "revenue": orders,
        "orders": orders,
        "aov": orders,
        "new_vs_returning": _("No orders of known customers in this range."),
        "top_products": _("No order lines in this range."),
        "revenue_by_source": orders,
        "checkouts": _(
            "No abandoned checkout in this range. They arrive with a store's webhooks and syncs."
        ),
    }


def _formatted(kpis: dict[str, float]) -> list[tuple[str, str, str]]:
    """(key, label, value) for the KPI tiles."""

    def num(v: float, fmt: str) -> str:
        return "—" if v is None or math.isnan(v) else fmt.format(v)

    return [
        ("revenue", _("Revenue"), num(kpis["revenue"], "{:,.2f}")),
        ("orders", _("Orders"), num(kpis["orders"], "{:,.0f}")),
        ("aov", _("Average order value"), num(kpis["aov"], "{:,.2f}")),
        ("customers", _("Customers"), num(kpis["customers"], "{:,.0f}")),
        ("repeat", _("Repeat purchase rate"), num(kpis["repeat_purchase_rate"], "{:.1%}")),
        ("returning", _("Returning customer rate"), num(kpis["returning_customer_rate"], "{:.1%}")),
        ("abandoned", _("Abandoned checkouts"), num(kpis["abandoned"], "{:,.0f}")),
        ("recovered", _("Recovered checkouts"), num(kpis["recovered"], "{:,.0f}")),
        ("recovery", _("Recovery rate"), num(kpis["recovery_rate"], "{:.1%}")),
    ]


@bp.get("/plotly.min.js")
def plotly_js() -> Response:
    """The plotly.js of the installed plotly package (no login: it is a public library)."""
    from hub.analytics.notebook import plotly_source

    response = Response(plotly_source(), mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 86_400
    return response
