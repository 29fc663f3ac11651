"""Sales volume shown per product (W5): own sales, the sales on the shop a product was
migrated from (third-party sales, ``hub.core.store.sales``) and what buyers see, with the
per-product switch that adds the third-party sales to what buyers see."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select

from hub import registry
from hub.core.errors import N_, NotFound, Refused
from hub.core.store.sales import COUNTED, KEY, SWITCH
from hub.extensions import db
from hub.models import Order, OrderLine, Product


def migrating_sources() -> set[str]:
    """Platforms the hub migrates from: their products carry third-party sales."""
    return {
        p for p, cls in registry.connectors(current_app).items() if "migrate" in cls.capabilities
    }


def properties(product: Product) -> dict[str, Any]:
    """The product's properties as shown: a migrated product always has both W5 fields."""
    props = dict(product.properties or {})
    if product.source in migrating_sources():
        props.setdefault(KEY, 0)
        props.setdefault(SWITCH, False)
    return props


def own_sales(product: Product) -> int:
    """Units of the product sold in orders the hub took from elsewhere than its own shop."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(OrderLine.qty), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product.id, Order.status.in_(COUNTED))
        .where(Order.source != product.source)
    )
    return int(total or 0)


def view(product: Product) -> dict[str, Any]:
    """Own sales, third-party sales, the switch and what buyers see."""
    props = properties(product)
    own, third = own_sales(product), int(props.get(KEY) or 0)
    shown = bool(props.get(SWITCH))
    return {"own": own, "third_party": third, "show_third_party": shown,
            "buyers_see": own + (third if shown else 0)}  # fmt: skip


def set_switch(workspace_id: int, product_id: int, value: Any) -> Product:
    """Turn the third-party sales shown to buyers on or off (workspace-scoped)."""
    product = db.session.scalar(
        select(Product).where(Product.id == product_id, Product.workspace_id == workspace_id)
    )
    if product is None:
        raise NotFound(f"product {product_id} does not exist in this workspace")
    if not isinstance(value, bool):
        raise Refused(N_("Show third-party sales: send true or false."),
                      field="show_third_party_sales")  # fmt: skip
    product.properties = {**(product.properties or {}), SWITCH: value}
    db.session.commit()
    return product
