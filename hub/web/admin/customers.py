"""Customers: search, detail (properties, identities, tags, groups, stage, score, timeline Y9,
orders tab), merge and the merge ledger with undo (X4)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from hub.core import identity
from hub.core.errors import HubError, NotFound
from hub.extensions import db
from hub.models import Customer
from hub.web.admin import queries
from hub.web.admin.common import paginate, scoped_or_404
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import _

bp = Blueprint("customers", __name__)


@bp.get("/customers")
@login_required
def index() -> Any:
    q = request.args.get("q", "").strip()
    pager = paginate(queries.customers_stmt(workspace_id(), q))
    return render_template("admin/customers.html", pager=pager, q=q)


@bp.get("/customers/<int:customer_id>")
@login_required
def detail(customer_id: int) -> Any:
    ws = workspace_id()
    customer = scoped_or_404(Customer, customer_id)
    tab = request.args.get("tab", "timeline")
    if tab == "orders":
        pager = paginate(queries.orders_stmt(ws, {"customer_id": customer.id}))
    else:
        tab = "timeline"
        pager = paginate(queries.timeline_stmt(ws, customer.id))
    merged_into = (
        db.session.get(Customer, customer.merged_into_id) if customer.merged_into_id else None
    )
    return render_template(
        "admin/customer_detail.html",
        c=customer,
        tab=tab,
        pager=pager,
        identities=queries.customer_identities(customer.id),
        tags=queries.customer_tags(customer.id),
        groups=queries.customer_groups(customer.id),
        merged_into=merged_into,
    )


@bp.post("/customers/<int:customer_id>/merge")
@admin_required
def merge(customer_id: int) -> Any:
    keep = scoped_or_404(Customer, customer_id)
    other = request.form.get("merge_id", type=int)
    reason = request.form.get("reason", "").strip() or _("merged by an admin")
    if not other:
        flash(_("Enter the number of the customer to merge into this one."), "error")
        return redirect(url_for("customers.detail", customer_id=keep.id))
    try:
        identity.merge(
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


@bp.get("/merges")
@login_required
def merges() -> Any:
    ws = workspace_id()
    pager = paginate(queries.merges_stmt(ws))
    ids = {e.kept_id for e in pager.items} | {e.merged_id for e in pager.items}
    return render_template("admin/merges.html", pager=pager, names=queries.customer_names(ws, ids))


@bp.post("/merges/<int:ledger_id>/undo")
@admin_required
def undo(ledger_id: int) -> Any:
    try:
        identity.undo_merge(db.session, workspace_id(), ledger_id)
    except NotFound:
        db.session.rollback()
        abort(404)
    except HubError as exc:
        db.session.rollback()
        flash(_("Undo refused: %(e)s", e=str(exc)), "error")
    else:
        flash(_("Merge undone: both customers are back as they were."), "success")
    return redirect(url_for("customers.merges"))
