"""Customers: search, detail (properties, identities, tags, groups, stage, score, timeline Y9,
orders tab), merge and the merge ledger with undo (X4)."""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from hub.core import merge as ledger
from hub.core.errors import HubError, NotFound
from hub.extensions import db
from hub.models import Customer
from hub.queries import customers as q_customers
from hub.queries import deals as q_deals
from hub.queries import orders as q_orders
from hub.queries import workspace as q_workspace
from hub.services import customers as service
from hub.web import csv_export
from hub.web.admin.common import error_text, form_id, paginate, scoped_or_404
from hub.web.admin.deals import STAGE_LABELS as DEAL_STAGES
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import _

bp = Blueprint("customers", __name__)


@bp.get("/customers")
@login_required
def index() -> Any:
    ws = workspace_id()
    filters = q_customers.CustomerFilter.from_args(request.args)
    pager = paginate(q_customers.search(ws, filters))
    facts = q_customers.facts(ws, (c.id for c in pager.items))
    return render_template(
        "admin/customers.html",
        pager=pager,
        q=filters.q or "",
        f=filters,
        tag_names=q_workspace.tag_names(ws),
        groups=q_workspace.groups(ws),
        **q_customers.choices(ws),
        facts=facts,
        no_facts=q_customers.NO_FACTS,
    )


@bp.get("/customers.csv")
@login_required
def export() -> Any:
    """The list's customers, for the filters and sort it shows, as streamed CSV."""
    filters = q_customers.CustomerFilter.from_args(request.args)
    ws = workspace_id()
    rows = functools.partial(q_customers.export_rows, workspace_id=ws, f=filters)
    return csv_export.response("customers.csv", q_customers.EXPORT_HEADER, rows)


@bp.get("/customers/<int:customer_id>")
@login_required
def detail(customer_id: int) -> Any:
    ws = workspace_id()
    customer = q_customers.get(ws, customer_id)
    tab = request.args.get("tab", "timeline")
    if tab == "orders":
        pager = paginate(q_orders.search(ws, q_orders.OrderFilter(customer_id=customer.id)))
    elif tab == "deals":  # H5: the customer's deals, orders' and checkouts'
        pager = paginate(q_deals.search(ws, q_deals.DealFilter(customer_id=customer.id)))
    else:
        tab = "timeline"
        pager = paginate(q_customers.timeline(ws, customer.id))
    merged_into = (
        db.session.get(Customer, customer.merged_into_id) if customer.merged_into_id else None
    )
    profile = q_customers.profile(ws, customer.id)
    member_of = {g.id for g in profile.groups}
    return render_template(
        "admin/customer_detail.html",
        c=customer,
        tab=tab,
        pager=pager,
        stage_labels=DEAL_STAGES,
        identities=profile.identities,
        tags=profile.tags,
        groups=profile.groups,
        other_groups=[g for g in q_workspace.groups(ws) if g.id not in member_of],
        tag_names=q_workspace.tag_names(ws),
        merged_into=merged_into,
        contact=q_customers.contact(ws, customer),
        facts=q_customers.facts(ws, [customer.id]).get(customer.id, q_customers.NO_FACTS),
    )


def _change(customer_id: int, write: Any, *args: Any) -> Any:
    """Run one tag/group write for this workspace: 404 for another workspace's objects."""
    try:
        done = write(workspace_id(), customer_id, *args)
    except NotFound:
        db.session.rollback()
        abort(404)
    except HubError as exc:
        db.session.rollback()
        flash(error_text(exc), "error")
        done = None
    return done


def _back(customer_id: int) -> Any:
    return redirect(url_for("customers.detail", customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/tags")
@admin_required
def add_tag(customer_id: int) -> Any:
    tag = _change(customer_id, service.add_tag, request.form.get("tag", ""))
    if tag is not None:
        flash(_("Tag “%(t)s” added.", t=tag.name), "success")
    return _back(customer_id)


@bp.post("/customers/<int:customer_id>/tags/<int:tag_id>/remove")
@admin_required
def remove_tag(customer_id: int, tag_id: int) -> Any:
    tag = _change(customer_id, service.remove_tag, tag_id)
    if tag is not None:
        flash(_("Tag “%(t)s” removed.", t=tag.name), "success")
    return _back(customer_id)


@bp.post("/customers/<int:customer_id>/groups")
@admin_required
def add_to_group(customer_id: int) -> Any:
    scoped_or_404(Customer, customer_id)
    group_id = form_id("group_id")
    if not group_id:
        flash(_("Choose a group to add the customer to."), "error")
        return _back(customer_id)
    group = _change(customer_id, service.add_to_group, group_id)
    if group is not None:
        flash(_("Added to the group “%(g)s”.", g=group.name), "success")
    return _back(customer_id)


@bp.post("/customers/<int:customer_id>/groups/<int:group_id>/remove")
@admin_required
def remove_from_group(customer_id: int, group_id: int) -> Any:
    group = _change(customer_id, service.remove_from_group, group_id)
    if group is not None:
        flash(_("Removed from the group “%(g)s”.", g=group.name), "success")
    return _back(customer_id)


@bp.post("/customers/<int:customer_id>/merge")
@admin_required
def merge(customer_id: int) -> Any:
    keep = scoped_or_404(Customer, customer_id)
    other = form_id("merge_id")
    reason = request.form.get("reason", "").strip() or _("merged by an admin")
    if not other:
        flash(_("Enter the number of the customer to merge into this one."), "error")
        return redirect(url_for("customers.detail", customer_id=keep.id))
    try:
        ledger.merge(
            db.session, workspace_id(), keep.id, other, reason=reason, actor=current_user.email
        )
    except NotFound:
        db.session.rollback()
        flash(_("Customer #%(id)s does not exist in this workspace.", id=other), "error")
    except HubError as exc:
        db.session.rollback()
        flash(_("Merge refused: %(e)s", e=str(exc)), "error")
    else:
        flash(
            _(
                "Customer #%(id)s merged into this one. You can undo it from the merge ledger.",
                id=other,
            ),
            "success",
        )
    return redirect(url_for("customers.detail", customer_id=keep.id))


@bp.post("/customers/<int:customer_id>/delete")
@admin_required
def delete(customer_id: int) -> Any:
    """H3: delete the customer for good; its orders stay, without a customer."""
    if _change(customer_id, service.delete_customer) is None:
        return _back(customer_id)
    flash(
        _("Customer #%(id)s deleted. Its orders stay, without a customer; later updates from "
          "the stores will not bring it back.", id=customer_id),
        "success",
    )  # fmt: skip
    return redirect(url_for("customers.index"))


@bp.get("/merges")
@login_required
def merges() -> Any:
    ws = workspace_id()
    pager = paginate(q_customers.merges(ws))
    ids = {e.kept_id for e in pager.items} | {e.merged_id for e in pager.items}
    return render_template("admin/merges.html", pager=pager, names=q_customers.names(ws, ids))


@bp.post("/merges/<int:ledger_id>/undo")
@admin_required
def undo(ledger_id: int) -> Any:
    try:
        ledger.undo_merge(db.session, workspace_id(), ledger_id)
    except NotFound:
        db.session.rollback()
        abort(404)
    except HubError as exc:
        db.session.rollback()
        flash(_("Undo refused: %(e)s", e=str(exc)), "error")
    else:
        flash(_("Merge undone: both customers are back as they were."), "success")
    return redirect(url_for("customers.merges"))
