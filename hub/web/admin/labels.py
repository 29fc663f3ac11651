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
}


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
