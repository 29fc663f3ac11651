"""GET /products/<id> (with its sales volume, W5) and PATCH /products/<id>."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from hub.core.errors import NotFound
from hub.extensions import db
from hub.models import Product
from hub.services import product_sales
from hub.web import api_serial as ser
from hub.web.api_base import bp, json_body, workspace_id


def _detail(product: Product) -> dict[str, Any]:
    return {**ser.product(product), "sales": product_sales.view(product)}


@bp.get("/products/<int:product_id>")
def product(product_id: int) -> Any:
    found = db.session.get(Product, product_id)
    if found is None or found.workspace_id != workspace_id():
        raise NotFound(f"product {product_id} does not exist in this workspace")
    return jsonify(_detail(found))


@bp.patch("/products/<int:product_id>")
def update_product(product_id: int) -> Any:
    data = json_body()
    found = product_sales.set_switch(workspace_id(), product_id, data.get("show_third_party_sales"))
    return jsonify(_detail(found))
