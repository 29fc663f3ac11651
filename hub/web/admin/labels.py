"""What the pages call a property or a count, instead of its stored key ("original_campaign"
shows as "Original campaign", a custom property as its label)."""

from __future__ import annotations

from flask import g
from flask_login import current_user
from sqlalchemy import select

from hub.extensions import db
from hub.models import IdentityType
from hub.web.i18n import N_, _

LABELS = {
    "original_campaign": N_("Original campaign"),
    "original_source": N_("Original source"),
    "store_no": N_("Store no"),
    "postcode": N_("Postcode"),
    "attributes": N_("Attributes"),
    "refund_state": N_("Refund state"),
    "type": N_("Type"),
    "gender": N_("Gender"),
    "birthday": N_("Birthday"),
    "country": N_("Country"),
    "province": N_("Province"),
    "city": N_("City"),
    "district": N_("District"),
    "address": N_("Address"),
    "company": N_("Company"),
    "employees": N_("Number of company employees"),
    "job_title": N_("Job title"),
    "note": N_("Note"),
    "orders": N_("Orders"),
    "customers": N_("Customers"),
    "products": N_("Products"),
    "refunds": N_("Refunds"),
    "conflicts": N_("Conflicts"),
    "deals": N_("Deals"),
    "checkouts": N_("Checkouts"),
    # the built-in identity types (a custom one shows its label from Custom fields)
    "customer_id": N_("Customer id"),
    "mobile": N_("Mobile"),
    "email": N_("Email"),
    "nickname": N_("Nickname"),
    "wx_openid": N_("WeChat openid"),
    "wx_unionid": N_("WeChat unionid"),
    "yz_open_id": N_("Youzan open id"),
    "sobot_id": N_("Sobot customer id"),
    "tmall_buyer": N_("Tmall buyer name"),
    "shopify_customer_id": N_("Shopify customer id"),
    # a sync run's counts (orders: created 3, possible duplicates 1 ...)
    "identities": N_("Identities"),
    "lines": N_("Lines"),
    "events": N_("Events"),
    "migration": N_("Migration"),
    "created": N_("created"),
    "updated": N_("updated"),
    "unchanged": N_("unchanged"),
    "skipped": N_("skipped"),
    "deleted": N_("deleted"),
    "delete_missing": N_("deleted on the store"),
    "closed": N_("closed"),
    "possible_duplicates": N_("possible duplicates"),
    "orders_detached": N_("orders detached"),
    "events_detached": N_("events detached"),
    "events_deleted": N_("events deleted"),
    "purchase": N_("purchase"),
    "return": N_("return"),
    "cancel": N_("cancel"),
    "first_purchase": N_("first_purchase"),
    "checkout_abandoned": N_("checkout_abandoned"),
    # products' properties as the shops name them
    "spu_status": N_("Mini shop status code"),
    "head_img": N_("Images"),
    "images": N_("Images"),
    "skus": N_("SKUs"),
    "sku_id": N_("SKU id"),
    "sku_code": N_("SKU code"),
    "sale_price": N_("Price"),
    "stock_num": N_("Stock"),
    "groups": N_("Groups"),
    "freight": N_("Freight"),
    "third_party_sales": N_("Mini shop sales"),
    "show_third_party_sales": N_("Show the mini shop's sales"),
    "first_seen_in_order": N_("First seen in an order"),
    "body_html": N_("Description"),
    "handle": N_("Handle"),
    "product_type": N_("Product type"),
    "published_at": N_("Published"),
    "published_scope": N_("Published to"),
    "created_at": N_("Created on the shop"),
    "tags": N_("Tags"),
    "vendor": N_("Vendor"),
}

# The rule editor's condition fields in words (the field keys are the API's vocabulary).
CONDITION_FIELDS = {
    "amount": N_("Order amount"),
    "source": N_("Source"),
    "store": N_("Store"),
    "order_status": N_("Order status"),
    "line.product_id": N_("A line's product id"),
    "line.sku": N_("A line's SKU"),
    "line.name": N_("A line's product name"),
    "line.quantity": N_("A line's quantity"),
    "stage": N_("Stage"),
    "score": N_("Activity score"),
    "tags": N_("Tags"),
    "groups": N_("Groups"),
    "identity": N_("Has an identity"),
    "orders_count": N_("Number of orders"),
    "total_spent": N_("Total spent"),
    "created_at": N_("Customer since"),
    "segment": N_("In a segment"),
    "bought": N_("Bought (times within days)"),
    "did_event": N_("Did an event (times within days)"),
    "rfm": N_("RFM segment"),
}


OPERATORS = {
    "eq": N_("is"),
    "ne": N_("is not"),
    "gt": N_("is more than"),
    "gte": N_("is at least"),
    "lt": N_("is less than"),
    "lte": N_("is at most"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "contains": N_("contains"),
    "not_contains": N_("does not contain"),
    "exists": N_("is present"),
    "not_exists": N_("is absent"),
}


def operator(key: str) -> str:
    """A condition's operator in words, translated."""
    return _(OPERATORS[key]) if key in OPERATORS else key


def condition_field(key: str) -> str:
    """A condition field in words, translated (a key it does not know as written)."""
    return _(CONDITION_FIELDS[key]) if key in CONDITION_FIELDS else key


# A product's status in words (the API keeps the key).
PRODUCT_STATUSES = {
    "on_sale": N_("On sale"),
    "warehouse": N_("In warehouse"),
    "off_shelf": N_("Off shelf"),
    "active": N_("On sale"),
    "draft": N_("Draft"),
    "archived": N_("Archived"),
}


def product_status(value: str | None) -> str:
    """A product's status in words, translated; "—" for none."""
    if not value:
        return "—"
    return _(PRODUCT_STATUSES[value]) if value in PRODUCT_STATUSES else value


def field_label(key: str) -> str:
    """A stored key in words: the workspace's label of a custom field, the translated label
    of a known key, else the key with its underscores as spaces, capitalised."""
    custom = _custom_labels()
    if custom.get(key):
        return custom[key]
    if key in LABELS:
        return _(LABELS[key])
    return key.replace("_", " ").strip().capitalize() or key


def _custom_labels() -> dict[str, str]:
    if "field_labels" not in g:
        labels: dict[str, str] = {}
        workspace_id = getattr(current_user, "workspace_id", None)
        if workspace_id is not None:
            rows = db.session.execute(
                select(IdentityType.name, IdentityType.label).where(
                    IdentityType.workspace_id == workspace_id
                )
            )
            labels = {name: label for name, label in rows if label}
        g.field_labels = labels
    return g.field_labels
