"""Pure mapping of Shopify REST Admin API payloads (2024-01 and later) to canonical records:
customers (H1, H2, H4), orders (H5, H7, H8), abandoned checkouts (H6), products (H9),
deletions (H7) and the compliance requests. Text is kept as the shop sent it (H10); money
strings become Decimal; times become aware UTC datetimes; ids are strings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.core.records import (
    DEAL_PROPERTIES,
    CheckoutRecord,
    Consignee,
    CustomerRecord,
    DeletionRecord,
    LineRecord,
    OrderRecord,
    PrivacyRecord,
    ProductRecord,
    RefundRecord,
)

PLATFORM = "shopify"
SALES_CHANNEL = "Shopify"
CUSTOMER_ID = "shopify_customer_id"  # identity type: a Shopify customer's id
# H4: customers created by a store's first import, as HubSpot's Shopify integration labels them
FIRST_SYNC_SOURCE = "INTEGRATION_SYNC"
FIRST_SYNC_DETAIL = "integrations-sync"

# H8: the order fields a deal carries (customer_id is set from the customer record)
ORDER_PROPERTIES = tuple(
    k for k in DEAL_PROPERTIES if k not in ("abandoned_checkout_url", "customer_id")
)
# every top-level order field map_order reads (the orders stream asks for these only)
ORDER_FIELDS = tuple(
    sorted(
        {
            *ORDER_PROPERTIES,
            "id",
            "updated_at",
            "total_outstanding",
            "processed_at",
            "line_items",
            "refunds",
            "customer",
            "email",
            "shipping_address",
            "payment_gateway_names",
            "checkout_token",
        }  # fmt: skip
    )
)
# what an abandoned checkout has of them (no cancellation, payment or fulfilment yet)
CHECKOUT_PROPERTIES = tuple(
    k
    for k in DEAL_PROPERTIES
    if k not in ("customer_id", "cancel_reason", "cancelled_at", "financial_status",
                 "fulfillment_status", "order_number", "processing_method")
)  # fmt: skip
PRODUCT_PROPERTIES = (
    "body_html",
    "created_at",
    "handle",
    "product_type",
    "published_at",
    "published_scope",
    "tags",
    "vendor",
)
CLOSED_FINANCIAL = {"voided"}  # authorised, never captured
# Paid at some point: a refunded order was a purchase, its refunds are returns (Y7-style)
PAID_FINANCIAL = {"paid", "partially_refunded", "refunded"}
RECEIVED_FINANCIAL = {"paid", "partially_refunded", "refunded", "partially_paid"}
DELETABLE = {"Order": "order", "Product": "product"}  # a customer deleted on the shop: kept (H3)


class MappingError(ValueError):
    """A payload that cannot be mapped; the message names the object and the field."""


def sid(value: Any) -> str | None:
    """A Shopify id as a string (ids exceed 2^53: never a float on the way)."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise MappingError(f"id {value!r} arrived as a float: its digits are lost")
    return str(value)


def parse_time(value: Any, *, what: str = "", field: str = "") -> datetime | None:
    """ISO 8601 with an offset (Shopify's form) to an aware UTC datetime; "" is None."""
    if value.__class__ is str and value:  # the common case: Python reads "Z" and offsets
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise MappingError(f"{what}: {field} {value!r} is not an ISO 8601 time") from None
        if when.tzinfo is None:
            raise MappingError(f"{what}: {field} {value!r} has no UTC offset")
        return when.astimezone(UTC)
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{what}: {field} {value!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise MappingError(f"{what}: {field} {value!r} has no UTC offset")
    return when.astimezone(UTC)


def money(value: Any, *, what: str = "", field: str = "") -> Decimal | None:
    """Shopify's string money (``"12.30"``) as a Decimal."""
    if value in (None, ""):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{what}: {field} {value!r} is not an amount") from None
    if not amount.is_finite():
        raise MappingError(f"{what}: {field} {value!r} is not an amount")
    return amount


def _text(value: Any) -> str | None:
    if value.__class__ is str:  # most values: strip() gives the same string back, no copy
        return value.strip() or None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# ---------------------------------------------------------------------- customers
def source_of(first_sync: bool, source_name: str | None = None) -> tuple[str, str]:
    """(original_source, original_source_detail) of a customer (H4)."""
    if first_sync:
        return FIRST_SYNC_SOURCE, FIRST_SYNC_DETAIL
    return PLATFORM, _text(source_name) or PLATFORM


def map_customer(
    c: Mapping[str, Any] | None, *, first_sync: bool = False, source_name: str | None = None
) -> CustomerRecord | None:
    """A Shopify customer (full or the brief form inside an order) to a CustomerRecord keyed
    by e-mail, then by the Shopify customer id; None without an e-mail (H1)."""
    if not c:
        return None
    email = _text(c.get("email"))
    if email is None:
        return None
    cid = sid(c.get("id"))
    identities = [("email", email.lower())]
    if cid is not None:
        identities.append((CUSTOMER_ID, cid))
    address = c.get("default_address") or {}
    consent = c.get("email_marketing_consent") or {}
    first, last = _text(c.get("first_name")), _text(c.get("last_name"))
    phone = _text(c.get("phone"))  # the customer's own phone, never the address's
    street = " ".join(
        x for x in (_text(address.get("address1")), _text(address.get("address2"))) if x
    )
    props = {
        "accepts_marketing": consent.get("state") == "subscribed" if consent else None,
        "created_at": c.get("created_at"),
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "note": c.get("note"),
        "orders_count": c.get("orders_count"),
        "tags": c.get("tags"),
        "tax_exempt": c.get("tax_exempt"),
        "verified_email": c.get("verified_email"),
        "street": street or None,
        "city": _text(address.get("city")),
        "country": _text(address.get("country")),
        "province": _text(address.get("province")),
        "zip": _text(address.get("zip")),
    }
    original, detail = source_of(first_sync, source_name)
    return CustomerRecord(
        identities=identities,
        name=" ".join(x for x in (first, last) if x) or None,
        mobile=phone,
        email=email,
        properties={k: v for k, v in props.items() if v is not None},
        original_source=original,
        original_source_detail=detail,
    )


def map_buyer(obj: Mapping[str, Any], *, first_sync: bool = False) -> CustomerRecord | None:
    """The buyer of an order or checkout: its customer (None when that customer has no
    e-mail, H1); a guest without a customer record but with an e-mail is a contact too."""
    customer = obj.get("customer") or None
    source_name = obj.get("source_name")
    if customer:
        return map_customer(customer, first_sync=first_sync, source_name=source_name)
    email = _text(obj.get("email"))
    if email is None:
        return None
    original, detail = source_of(first_sync, source_name)
    return CustomerRecord(
        identities=[("email", email.lower())],
        email=email,
        properties={"email": email},
        original_source=original,
        original_source_detail=detail,
    )


# ---------------------------------------------------------------------- orders
def order_status(o: Mapping[str, Any]) -> str:
    """The hub's status: cancelled / voided -> closed, fulfilled -> shipped, paid (refunded in
    part or whole: the refunds are returns) -> paid, else pending. The deal's stage is the
    issue's own rule on the Shopify fields (a refunded order's deal is cancelled)."""
    financial = o.get("financial_status")
    if o.get("cancelled_at") or financial in CLOSED_FINANCIAL:
        return "closed"
    if o.get("fulfillment_status") == "fulfilled":
        return "shipped"
    if financial in PAID_FINANCIAL:
        return "paid"
    return "pending"


def properties_of(obj: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The H8 keys ``obj`` has, values as Shopify sent them (money stays a string)."""
    return {k: obj[k] for k in keys if k in obj}


def _line(item: Mapping[str, Any], what: str, key_field: str = "id") -> LineRecord | None:
    """A line item; None for a line an order edit removed (current_quantity 0)."""
    lid = sid(item.get(key_field)) or sid(item.get("id"))
    if lid is None:
        raise MappingError(f"{what}: a line item without {key_field}")
    qty = item.get("current_quantity", item.get("quantity"))
    qty = int(qty or 0)
    if qty <= 0:
        return None
    return LineRecord(
        external_id=lid,
        product_external_id=sid(item.get("product_id")),
        sku_id=_text(item.get("sku")) or sid(item.get("variant_id")),
        name=item.get("title"),
        qty=qty,
        unit_price=money(item.get("price"), what=what, field=f"line_items[{lid}].price"),
    )


def _refunds(o: Mapping[str, Any], what: str) -> list[RefundRecord]:
    out = []
    for r in o.get("refunds") or []:
        rid = sid(r.get("id"))
        if rid is None:
            continue
        amount = Decimal(0)
        for t in r.get("transactions") or []:
            if t.get("kind") == "refund" and t.get("status") in (None, "success"):
                amount += money(t.get("amount"), what=what, field=f"refund {rid}.amount") or 0
        when = parse_time(
            r.get("processed_at") or r.get("created_at"),
            what=what,
            field=f"refund {rid}.created_at",
        )
        if when is None:
            raise MappingError(f"{what}: refund {rid} has no created_at")
        out.append(
            RefundRecord(external_id=rid, amount=amount, refunded_at=when, reason=r.get("note"))
        )
    return out


def _consignee(a: Mapping[str, Any] | None) -> Consignee | None:
    if not a:
        return None
    street = " ".join(x for x in (_text(a.get("address1")), _text(a.get("address2"))) if x)
    return Consignee(
        name=_text(a.get("name"))
        or " ".join(x for x in (_text(a.get("first_name")), _text(a.get("last_name"))) if x)
        or None,
        phone=_text(a.get("phone")),
        country=_text(a.get("country")),
        province=_text(a.get("province")),
        city=_text(a.get("city")),
        address=street or None,
    )


def map_order(
    o: Mapping[str, Any],
    *,
    first_sync: bool = False,
    store_id: str | None = None,
    store_name: str | None = None,
    triggered_at: datetime | None = None,
) -> OrderRecord:
    """An order to an OrderRecord. ``triggered_at`` (a webhook's X-Shopify-Triggered-At)
    raises the snapshot's version when it is newer than the payload's updated_at, so that a
    stale retry of the same second never wins over a newer delivery."""
    oid = sid(o.get("id"))
    if oid is None:
        raise MappingError("an order without id")
    what = f"order {oid}"
    created = parse_time(o.get("created_at"), what=what, field="created_at")
    if created is None:
        raise MappingError(f"{what}: created_at is missing")
    updated = parse_time(o.get("updated_at"), what=what, field="updated_at")
    version = None
    stamps = [t for t in (updated, triggered_at) if t is not None]
    if stamps:
        version = int(max(stamps).timestamp() * 1000)
    status = order_status(o)
    financial = o.get("financial_status")
    total = money(o.get("total_price"), what=what, field="total_price")
    outstanding = money(o.get("total_outstanding"), what=what, field="total_outstanding")
    paid = None
    if financial in RECEIVED_FINANCIAL and total is not None:
        paid = total - (outstanding or Decimal(0))
    cancelled = parse_time(o.get("cancelled_at"), what=what, field="cancelled_at")
    lines = [ln for item in o.get("line_items") or [] if (ln := _line(item, what)) is not None]
    customer = o.get("customer") or None
    props = properties_of(o, ORDER_PROPERTIES)
    props["customer_id"] = sid(customer.get("id")) if customer else None
    if o.get("checkout_token"):  # the checkout it completed: its deal becomes this order's
        props["checkout_token"] = str(o["checkout_token"])
    return OrderRecord(
        source=PLATFORM,
        external_id=oid,
        order_no=_text(o.get("name")),
        status=status,
        platform_status=f"{financial or ''}/{o.get('fulfillment_status') or ''}",
        ordered_at=created,
        updated_at=updated,
        version=version,
        buyer=map_buyer(o, first_sync=first_sync),
        lines=lines,
        # a cancellation's refund is the cancellation itself (the cancel event carries it)
        refunds=[] if cancelled else _refunds(o, what),
        amount_total=total,
        amount_paid=paid,
        currency=_text(o.get("currency")) or "USD",
        paid_at=parse_time(o.get("processed_at"), what=what, field="processed_at")
        if financial in RECEIVED_FINANCIAL
        else None,
        closed_at=(cancelled or updated) if status == "closed" else None,
        sales_channel=SALES_CHANNEL,
        store_id=store_id,
        store_name=store_name,
        consignee=_consignee(o.get("shipping_address")),
        payment_method=", ".join(o.get("payment_gateway_names") or []) or None,
        properties=props,
    )


# ---------------------------------------------------------------------- checkouts
def map_checkout(c: Mapping[str, Any], *, first_sync: bool = False) -> CheckoutRecord:
    """An abandoned checkout (checkouts.json) to a CheckoutRecord (H6)."""
    cid = sid(c.get("id"))
    if cid is None:
        raise MappingError("a checkout without id")
    what = f"checkout {cid}"
    created = parse_time(c.get("created_at"), what=what, field="created_at")
    if created is None:
        raise MappingError(f"{what}: created_at is missing")
    customer = c.get("customer") or None
    props = properties_of(c, CHECKOUT_PROPERTIES)
    props["customer_id"] = sid(customer.get("id")) if customer else None
    lines = [
        ln
        for item in c.get("line_items") or []
        if (ln := _line(item, what, key_field="key")) is not None
    ]
    return CheckoutRecord(
        source=PLATFORM,
        external_id=cid,
        created_at=created,
        updated_at=parse_time(c.get("updated_at"), what=what, field="updated_at"),
        completed_at=parse_time(c.get("completed_at"), what=what, field="completed_at"),
        token=_text(c.get("token")),
        buyer=map_buyer(c, first_sync=first_sync),
        lines=lines,
        amount_total=money(c.get("total_price"), what=what, field="total_price"),
        currency=_text(c.get("currency")) or "USD",
        properties=props,
    )


# ---------------------------------------------------------------------- products
def map_product(p: Mapping[str, Any]) -> ProductRecord:
    """A product (H9): price = the first variant's (variants are not synced)."""
    pid = sid(p.get("id"))
    if pid is None:
        raise MappingError("a product without id")
    what = f"product {pid}"
    variants = p.get("variants") or []
    price = (
        money(variants[0].get("price"), what=what, field="variants[0].price") if variants else None
    )
    props = properties_of(p, PRODUCT_PROPERTIES)
    props["images"] = [img["src"] for img in p.get("images") or [] if img.get("src")]
    return ProductRecord(
        source=PLATFORM,
        external_id=pid,
        name=p.get("title"),
        price=price,
        status=_text(p.get("status")),
        properties=props,
    )


# ---------------------------------------------------------------------- deletions, privacy
def map_event(e: Mapping[str, Any]) -> DeletionRecord | None:
    """A ``destroy`` event of an order or product; None for anything else (a customer
    deleted on the shop deletes nothing in the hub, H3)."""
    kind = DELETABLE.get(str(e.get("subject_type") or ""))
    rid = sid(e.get("subject_id"))
    if e.get("verb") != "destroy" or kind is None or rid is None:
        return None
    return DeletionRecord(source=PLATFORM, object=kind, external_id=rid)


def map_privacy(topic: str, body: Mapping[str, Any]) -> PrivacyRecord | None:
    """The three compliance topics to a PrivacyRecord."""
    action = {
        "customers/data_request": "data_request",
        "customers/redact": "customer_redact",
        "shop/redact": "shop_redact",
    }.get(topic)
    if action is None:
        return None
    who = body.get("customer") or {}
    request = body.get("data_request") or {}
    orders = body.get("orders_requested") or body.get("orders_to_redact") or []
    return PrivacyRecord(
        source=PLATFORM,
        action=action,
        request_id=sid(request.get("id")) if isinstance(request, Mapping) else None,
        customer_external_id=sid(who.get("id")),
        email=_text(who.get("email")),
        phone=_text(who.get("phone")),
        orders=[s for x in orders if (s := sid(x)) is not None],
    )
