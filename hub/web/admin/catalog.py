"""Products, tags and static groups."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy.exc import IntegrityError

from hub.extensions import db
from hub.models import Group, Product, Tag
from hub.queries import customers as q_customers
from hub.queries import products as q_products
from hub.queries import workspace as q_workspace
from hub.services import product_sales
from hub.services.customers import find_tag
from hub.web.admin.common import paginate, scoped_or_404
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import _

bp = Blueprint("catalog", __name__)


@bp.get("/products")
@login_required
def products() -> Any:
    ws = workspace_id()
    filters = q_products.ProductFilter.from_args(request.args)
    pager = paginate(q_products.search(ws, filters))
    return render_template(
        "admin/products.html",
        pager=pager,
        q=filters.q or "",
        source=filters.source or "",
        sources=q_products.sources(ws),
    )


@bp.get("/products/<int:product_id>")
@login_required
def product(product_id: int) -> Any:
    p = scoped_or_404(Product, product_id)
    sales = product_sales.view(p) if p.source in product_sales.migrating_sources() else None
    return render_template("admin/product_detail.html", p=p, sales=sales)


@bp.post("/products/<int:product_id>/third-party-sales")
@admin_required
def third_party_sales(product_id: int) -> Any:
    """W5: the switch adding the mini shop's sales to what buyers see."""
    p = scoped_or_404(Product, product_id)
    shown = request.form.get("show") == "1"
    product_sales.set_switch(workspace_id(), p.id, shown)
    if shown:
        flash(_("Buyers now see the third-party sales added to this product's sales."), "success")
    else:
        flash(_("Buyers now see this product's own sales only."), "success")
    return redirect(url_for("catalog.product", product_id=p.id))


@bp.get("/tags")
@login_required
def tags() -> Any:
    ws = workspace_id()
    return render_template(
        "admin/tags.html",
        tags=q_workspace.tags_with_counts(ws),
        groups=q_workspace.groups_with_counts(ws),
    )


def _create(model: type[Tag] | type[Group], label: str) -> Any:
    name = request.form.get("name", "").strip()
    if not name or len(name) > 100:
        flash(_("A %(what)s name needs 1 to 100 characters.", what=label), "error")
        return redirect(url_for("catalog.tags"))
    if model is Tag and (same := find_tag(workspace_id(), name)) is not None:
        flash(_("The tag “%(name)s” already exists; “%(typed)s” refers to it.",
                name=same.name, typed=name), "info")  # fmt: skip
        return redirect(url_for("catalog.tags"))
    db.session.add(model(workspace_id=workspace_id(), name=name))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("A %(what)s named “%(name)s” already exists.", what=label, name=name), "error")
    else:
        flash(_("%(what)s “%(name)s” created.", what=label.capitalize(), name=name), "success")
    return redirect(url_for("catalog.tags"))


@bp.post("/tags")
@admin_required
def create_tag() -> Any:
    return _create(Tag, _("tag"))


@bp.post("/groups")
@admin_required
def create_group() -> Any:
    return _create(Group, _("group"))


@bp.get("/groups/<int:group_id>")
@login_required
def group(group_id: int) -> Any:
    g = scoped_or_404(Group, group_id)
    members = q_customers.group_members(workspace_id(), g.id)
    return render_template("admin/group_detail.html", g=g, pager=paginate(members))
