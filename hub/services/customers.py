"""Admin writes around customers: custom identities/properties (I2), tags and static groups.

Every function is scoped to a workspace, commits its own change and raises ``NotFound`` for an
object of another workspace or ``Refused`` (a ValidationFailed whose ``message``/``params``
the web layer translates) for input it will not take.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, select

from hub.automation.erasure import erase_outbox
from hub.core import forget
from hub.core.errors import N_, NotFound, Refused
from hub.extensions import db
from hub.models import Customer, CustomerTag, Group, GroupMember, IdentityType, Tag

FIELD_KINDS = ("identity", "property")
BUILTIN_IDENTITIES = (
    "customer_id",
    "mobile",
    "email",
    "yz_open_id",
    "wx_openid",
    "wx_unionid",
    "sobot_id",
    "tmall_buyer",
    "nickname",
    "shopify_customer_id",
)
FIELD_NAME = re.compile(r"[a-z0-9_]+")
NAME_MAX, LABEL_MAX, TAG_MAX = 40, 200, 100


# --- custom identities and properties (I2) ---------------------------------------------------


def list_fields(workspace_id: int) -> list[IdentityType]:
    """The workspace's custom identities then properties, by name."""
    stmt = select(IdentityType).where(IdentityType.workspace_id == workspace_id)
    return list(db.session.scalars(stmt.order_by(IdentityType.kind, IdentityType.name)))


def create_field(workspace_id: int, kind: str, name: str, label: str | None = None) -> IdentityType:
    """Add a custom identity type or property that imports can then map columns to."""
    kind, name, label = kind.strip(), name.strip(), (label or "").strip() or None
    if kind not in FIELD_KINDS:
        raise Refused(N_("Choose whether the field is an identity or a property."), field="kind")
    _check_name(name)
    if label and len(label) > LABEL_MAX:
        raise Refused(N_("The label is longer than %(n)s characters."), field="label", n=LABEL_MAX)
    exists = select(IdentityType.id).where(
        IdentityType.workspace_id == workspace_id,
        IdentityType.kind == kind,
        IdentityType.name == name,
    )
    if db.session.scalar(exists) is not None:
        raise Refused(
            N_("A custom %(kind)s named “%(name)s” already exists."),
            field="name",
            kind=kind,
            name=name,
        )
    field = IdentityType(workspace_id=workspace_id, kind=kind, name=name, label=label)
    db.session.add(field)
    db.session.commit()
    return field


def _check_name(name: str) -> None:
    if not name or len(name) > NAME_MAX:
        raise Refused(N_("The name needs 1 to %(n)s characters."), field="name", n=NAME_MAX)
    if not FIELD_NAME.fullmatch(name):
        raise Refused(
            N_("The name “%(name)s” may only hold lower-case letters, digits and underscores."),
            field="name",
            name=name,
        )
    if name in BUILTIN_IDENTITIES:
        raise Refused(
            N_("“%(name)s” is a built-in identity type; choose another name."),
            field="name",
            name=name,
        )


def delete_field(workspace_id: int, field_id: int) -> IdentityType:
    """Remove a custom field definition; values already stored on customers are kept."""
    field = db.session.get(IdentityType, field_id)
    if field is None or field.workspace_id != workspace_id:
        raise NotFound(f"custom field {field_id} not found")
    db.session.delete(field)
    db.session.commit()
    return field


# --- tags and static groups on one customer ---------------------------------------------------


def _customer(workspace_id: int, customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        raise NotFound(f"customer {customer_id} not found")
    if customer.merged_into_id:
        raise Refused(
            N_("This customer was merged into #%(id)s; change that customer instead."),
            id=customer.merged_into_id,
        )
    return customer


def _scoped(model: type[Any], workspace_id: int, object_id: int, what: str) -> Any:
    obj = db.session.get(model, object_id)
    if obj is None or obj.workspace_id != workspace_id:
        raise NotFound(f"{what} {object_id} not found")
    return obj


def add_tag(workspace_id: int, customer_id: int, name: str) -> Tag:
    """Tag the customer; the tag is created in the workspace when missing (static tags)."""
    customer = _customer(workspace_id, customer_id)
    name = " ".join(name.split())
    if not name or len(name) > TAG_MAX:
        raise Refused(N_("A tag name needs 1 to %(n)s characters."), field="tag", n=TAG_MAX)
    tag = find_tag(workspace_id, name)  # "vip" is the tag "VIP" (tags are one in any case)
    if tag is None:
        tag = Tag(workspace_id=workspace_id, name=name)
        db.session.add(tag)
        db.session.flush()
    if db.session.get(CustomerTag, (customer.id, tag.id)) is None:
        db.session.add(CustomerTag(customer_id=customer.id, tag_id=tag.id))
    db.session.commit()
    return tag


def find_tag(workspace_id: int, name: str) -> Tag | None:
    """The workspace's tag of this name in any case (22.5: tags are unique case-insensitively)."""
    stmt = select(Tag).where(
        Tag.workspace_id == workspace_id, func.lower(Tag.name) == " ".join(name.split()).lower()
    )
    return db.session.scalars(stmt.order_by(Tag.id)).first()


def remove_tag(workspace_id: int, customer_id: int, tag_id: int) -> Tag:
    """Take the tag off the customer (the tag itself stays)."""
    customer = _customer(workspace_id, customer_id)
    tag = _scoped(Tag, workspace_id, tag_id, "tag")
    db.session.execute(
        delete(CustomerTag).where(
            CustomerTag.customer_id == customer.id, CustomerTag.tag_id == tag.id
        )
    )
    db.session.commit()
    return tag


def add_to_group(workspace_id: int, customer_id: int, group_id: int) -> Group:
    """Add the customer to a static group of the same workspace (no-op if already in it)."""
    customer = _customer(workspace_id, customer_id)
    group = _scoped(Group, workspace_id, group_id, "group")
    if db.session.get(GroupMember, (group.id, customer.id)) is None:
        db.session.add(GroupMember(group_id=group.id, customer_id=customer.id))
    db.session.commit()
    return group


def remove_from_group(workspace_id: int, customer_id: int, group_id: int) -> Group:
    """Take the customer out of a static group."""
    customer = _customer(workspace_id, customer_id)
    group = _scoped(Group, workspace_id, group_id, "group")
    db.session.execute(
        delete(GroupMember).where(
            GroupMember.group_id == group.id, GroupMember.customer_id == customer.id
        )
    )
    db.session.commit()
    return group


# --- deletion (H3) ----------------------------------------------------------------------------


def delete_customer(workspace_id: int, customer_id: int) -> dict[str, int]:
    """Delete the customer for good (``hub.core.forget.delete_customer``): a later record from
    any source never brings it back; the outbound webhooks about it lose its personal data
    (``hub.automation.erasure``). A customer merged into another is refused."""
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        raise NotFound(f"customer {customer_id} not found")
    if customer.merged_into_id:
        raise Refused(
            N_("This customer was merged into #%(id)s; delete that customer or undo the merge."),
            id=customer.merged_into_id,
        )
    family = forget.customer_family(db.session, workspace_id, customer_id)
    values = forget.values_of(db.session, family)
    removed = forget.delete_customer(db.session, workspace_id, customer_id)
    removed["outbox_deliveries"] = erase_outbox(db.session, workspace_id, family, values)
    db.session.commit()
    return removed
