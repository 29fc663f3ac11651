"""Forgetting customers: deletion by an admin (H3) and erasure of personal data (privacy
requests). Both are set-based and scoped to a workspace; the caller commits.

A deleted customer is gone with its identities, tags and group memberships, and so are the
customers merged into it (and the merge ledger's entries about them, so no undo brings one
back). Its orders stay as anonymous order facts: ``customer_id`` null, amounts, times, lines
and statuses kept, so the dashboard and the analyses still count them. Events of an order
stay too (customer null; a first purchase keeps counting as one): they are those facts on the
timeline of no one; events without an
order (a chat, a visit) are the person's and are deleted. Its identities (and e-mail and
mobile) are kept as digests (``hub.core.plan.tombstones``): a later record carrying one, from
any source, is taken without a contact, so the deletion sticks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlalchemy.orm import Session

from hub.core.errors import Conflict, NotFound
from hub.core.normalise import InvalidValue, normalise_identity
from hub.core.plan.tombstones import digests
from hub.core.store.firsts import FIRST_PURCHASE
from hub.core.store.settings import cast_result
from hub.core.store.tombstones import bury
from hub.models import (
    Customer,
    CustomerTag,
    Deal,
    Event,
    GroupMember,
    Identity,
    MergeLedger,
    Order,
    OrderLine,
    WebhookDelivery,
)

# What an order holds of the person: erased by a privacy request, the rest kept.
ORDER_PERSONAL = (
    "consignee_name",
    "consignee_phone",
    "consignee_country",
    "consignee_province",
    "consignee_city",
    "consignee_district",
    "consignee_address",
    "payment_no",
)
# Keys of an order's properties that name or reach the person (Shopify's REST names and the
# like); the others (amounts, statuses, channels) are order facts and stay.
PERSONAL_KEYS = frozenset(
    {
        "email",
        "contact_email",
        "phone",
        "customer",
        "customer_id",
        "note",
        "billing_address",
        "shipping_address",
        "browser_ip",
        "client_details",
        "buyer_accepts_marketing",
        "buyer_message",
        "buyer_nick",
        "abandoned_checkout_url",  # a link into the buyer's cart
    }
)
CUSTOMER_PERSONAL = ("name", "email", "mobile", "properties")


def customer_family(session: Session, workspace_id: int, customer_id: int) -> list[int]:
    """The customer and every customer merged into it, however deep."""
    found = session.get(Customer, customer_id)
    if found is None or found.workspace_id != workspace_id:
        raise NotFound(f"customer {customer_id} not found")
    family, frontier = [customer_id], [customer_id]
    while frontier:
        frontier = list(
            session.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier)))
        )
        family += frontier
    return family


def delete_customer(session: Session, workspace_id: int, customer_id: int) -> dict[str, int]:
    """Delete a customer for good (H3; see the module docstring); returns what went."""
    found = session.get(Customer, customer_id)
    if found is not None and found.workspace_id == workspace_id and found.merged_into_id:
        raise Conflict(
            f"customer {customer_id} was merged into customer {found.merged_into_id}: "
            "delete that customer, or undo the merge first"
        )
    ids = customer_family(session, workspace_id, customer_id)
    buried = bury(session, workspace_id, digests(_identities_of(session, ids)))
    counts = {"customers": len(ids), "tombstones": buried}
    counts |= _unlink(session, ids)
    session.execute(update(Customer).where(Customer.id.in_(ids)).values(merged_into_id=None))
    session.execute(delete(Customer).where(Customer.id.in_(ids)))
    return counts


def _identities_of(session: Session, ids: list[int]) -> set[tuple[str, str]]:
    """The customers' identities and their e-mail and mobile, normalised."""
    rows = session.execute(select(Identity.type, Identity.value).where(
        Identity.customer_id.in_(ids)))  # fmt: skip
    found = {(t, v) for t, v in rows}
    for email, mobile in session.execute(
        select(Customer.email, Customer.mobile).where(Customer.id.in_(ids))
    ):
        for type_, value in (("email", email), ("mobile", mobile)):
            if value:
                try:
                    found.add((type_, normalise_identity(type_, value)))
                except InvalidValue:
                    continue
    return found


def _unlink(session: Session, ids: list[int]) -> dict[str, int]:
    """Everything that points at the customers, removed or detached."""
    counts = {}
    for name, model in (("identities", Identity), ("tags", CustomerTag), ("groups", GroupMember)):
        counts[name] = written(session.execute(delete(model).where(model.customer_id.in_(ids))))
    session.execute(
        delete(MergeLedger).where(or_(MergeLedger.kept_id.in_(ids), MergeLedger.merged_id.in_(ids)))
    )
    counts["events_deleted"] = written(
        session.execute(delete(Event).where(Event.customer_id.in_(ids), Event.order_id.is_(None)))
    )
    # A customer's first purchase is keyed by its id, which SQLite may give a new customer.
    session.execute(
        update(Event)
        .where(Event.customer_id.in_(ids), Event.type == FIRST_PURCHASE)
        .values(dedupe_key=literal(f"{FIRST_PURCHASE}:deleted:") + cast(Event.id, String))
    )
    counts["events_detached"] = written(
        session.execute(update(Event).where(Event.customer_id.in_(ids)).values(customer_id=None))
    )
    counts["orders_detached"] = written(
        session.execute(update(Order).where(Order.customer_id.in_(ids)).values(customer_id=None))
    )
    return counts


def erase_customers(session: Session, ids: list[int]) -> dict[str, Any]:
    """Erase the customers' personal data (privacy request): name, e-mail, mobile,
    properties and identities; the customer stays as an anonymous row, with its stage,
    score, tags, orders and events, so analyses still count it."""
    if not ids:
        return {}
    identities = written(session.execute(delete(Identity).where(Identity.customer_id.in_(ids))))
    session.execute(
        update(Customer)
        .where(Customer.id.in_(ids))
        .values(name=None, email=None, mobile=None, properties={})
    )
    _erase_deals(session, Deal.customer_id, ids)  # their checkouts' deals among them
    return {"customers": len(ids), "customer_fields": list(CUSTOMER_PERSONAL),
            "identities": identities}  # fmt: skip


def erase_orders(session: Session, order_ids: list[int]) -> dict[str, Any]:
    """Erase what the orders hold of the person (consignee, payment number, personal keys of
    their properties, their lines' properties); amounts, times, lines and statuses stay."""
    if not order_ids:
        return {"orders": 0}
    session.execute(
        update(Order).where(Order.id.in_(order_ids)).values(dict.fromkeys(ORDER_PERSONAL))
    )
    rows = session.execute(select(Order.id, Order.properties).where(Order.id.in_(order_ids))).all()
    changed = [
        {"id": oid, "properties": {k: v for k, v in props.items() if k not in PERSONAL_KEYS}}
        for oid, props in rows
        if props and not PERSONAL_KEYS.isdisjoint(props)
    ]
    if changed:
        session.execute(update(Order), changed)
    session.execute(
        update(OrderLine).where(OrderLine.order_id.in_(order_ids)).values(properties={})
    )
    _erase_deals(session, Deal.order_id, order_ids)
    return {"orders": len(order_ids), "order_fields": [*ORDER_PERSONAL, "properties"]}


def _erase_deals(session: Session, column: Any, ids: list[int]) -> None:
    """The personal keys of the deals' properties (the order's note, the cart's link)."""
    rows = session.execute(select(Deal.id, Deal.properties).where(column.in_(ids))).all()
    changed = [
        {"id": did, "properties": {k: v for k, v in props.items() if k not in PERSONAL_KEYS}}
        for did, props in rows
        if props and not PERSONAL_KEYS.isdisjoint(props)
    ]
    if changed:
        session.execute(update(Deal), changed)


def values_of(session: Session, ids: list[int]) -> set[str]:
    """The customers' identity values, e-mail and mobile, as they may appear in a payload."""
    found = {v for _, v in _identities_of(session, ids)} if ids else set()
    return {v for v in found if len(v) >= 5}


def erase_deliveries(
    session: Session,
    workspace_id: int,
    connection_id: int | None,
    values: set[str] | None,
) -> int:
    """Blank the bodies of the webhook inbox's deliveries that carry any of ``values`` (all
    of the connection's with None): the inbox keeps a delivery's id, topic and outcome, not
    the person. One not processed yet is marked ignored. Returns how many were blanked."""
    if values is not None and not values:
        return 0
    needles = [v.lower().encode() for v in values or ()]
    w = WebhookDelivery.__table__.c
    where = [w.workspace_id == workspace_id]
    if connection_id is not None:
        where.append(w.connection_id == connection_id)
    elif values is None:
        return 0
    hits: list[int] = []
    last = 0
    while True:  # by pages of ids: the bodies are read a page at a time
        page = session.execute(
            select(w.id, w.body).where(*where, w.id > last).order_by(w.id).limit(500)
        ).all()
        if not page:
            break
        last = page[-1][0]
        hits += [i for i, body in page if body and _carries(bytes(body).lower(), needles)]
    if hits:
        session.execute(update(WebhookDelivery).where(w.id.in_(hits)).values(body=b""))
        session.execute(
            update(WebhookDelivery)
            .where(w.id.in_(hits), w.status == "received")
            .values(status="ignored", error="erased by a privacy request before it was processed")
        )
    return len(hits)


def _carries(body: bytes, needles: list[bytes]) -> bool:
    return not needles or any(n in body for n in needles)


def written(result: Any) -> int:
    """How many rows an UPDATE or DELETE wrote."""
    return cast_result(result).rowcount or 0
