"""Listing pages decoded to what the mapping reads, and nothing else.

An order of the REST Admin API is some 3.5 kB of JSON even trimmed by ``fields=`` (which
trims top-level fields only): each line item carries its ``price_set`` and
``total_discount_set`` bags, tax lines and discount allocations; the embedded customer its
addresses. Decoding all of it into dicts, mapping from them and freeing them was most of the
read-ahead thread's work. Here a page is decoded by msgspec against TypedDicts that name the
fields :mod:`connectors.shopify.mapping` reads: every other field is skipped by the decoder
without building a Python object, and what is kept is the same dicts, lists and values
orjson gives (``Any`` fields: integers exact at any size, strings as sent), so the mapping
reads them unchanged.

A page the schema does not describe (a field of another JSON type than the mapping expects,
say a ``customer`` that is not an object) is decoded again with orjson, whole: the mapping
then meets it exactly as before and fails or copes as it always did.
"""

from __future__ import annotations

from typing import Any, TypedDict

import msgspec

from connectors.shopify.mapping import CHECKOUT_PROPERTIES, ORDER_FIELDS

# Each TypedDict below names the fields the mapping reads of that object (total=False: any
# may be missing); a field the mapping comes to read must be added here too
# (tests/unit/connectors/test_shopify_pages.py maps every sandbox record both ways).


class Address(TypedDict, total=False):
    """``default_address`` (map_customer) and ``shipping_address`` (the consignee)."""

    name: Any
    first_name: Any
    last_name: Any
    phone: Any
    address1: Any
    address2: Any
    city: Any
    province: Any
    country: Any
    zip: Any


class Consent(TypedDict, total=False):
    state: Any


class Customer(TypedDict, total=False):
    """map_customer's fields (a customer, or the one inside an order or a checkout)."""

    id: Any
    email: Any
    first_name: Any
    last_name: Any
    phone: Any
    created_at: Any
    note: Any
    orders_count: Any
    tags: Any
    tax_exempt: Any
    verified_email: Any
    default_address: Address | None
    email_marketing_consent: Consent | None


class LineItem(TypedDict, total=False):
    """_line's fields (``key`` is a checkout line's id)."""

    id: Any
    key: Any
    product_id: Any
    variant_id: Any
    sku: Any
    title: Any
    quantity: Any
    current_quantity: Any
    price: Any


class Transaction(TypedDict, total=False):
    kind: Any
    status: Any
    amount: Any


class Refund(TypedDict, total=False):
    id: Any
    note: Any
    created_at: Any
    processed_at: Any
    transactions: list[Transaction] | None


# The fields read by map_order / map_checkout whose JSON type the mapping relies on; the
# other top-level fields are kept as they come (Any).
_NESTED: dict[str, Any] = {
    "customer": Customer | None,
    "line_items": list[LineItem] | None,
    "refunds": list[Refund] | None,
    "shipping_address": Address | None,
}
ORDER_TOP = tuple(ORDER_FIELDS)
CHECKOUT_TOP = tuple(
    sorted(
        {*CHECKOUT_PROPERTIES, "id", "created_at", "updated_at", "completed_at", "token",
         "total_price", "currency", "email", "source_name", "customer", "line_items"}
    )
)  # fmt: skip

Order = TypedDict(  # type: ignore[misc]  # built from the field list the orders stream asks for
    "Order", {name: _NESTED.get(name, Any) for name in ORDER_TOP}, total=False
)
Checkout = TypedDict(  # type: ignore[misc]
    "Checkout", {name: _NESTED.get(name, Any) for name in CHECKOUT_TOP}, total=False
)


class OrdersPage(TypedDict):
    orders: list[Order]  # type: ignore[valid-type]


class CustomersPage(TypedDict):
    customers: list[Customer]


class CheckoutsPage(TypedDict):
    checkouts: list[Checkout]  # type: ignore[valid-type]


DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "orders": msgspec.json.Decoder(OrdersPage),
    "customers": msgspec.json.Decoder(CustomersPage),
    "checkouts": msgspec.json.Decoder(CheckoutsPage),
}


def decode_rows(resource: str, content: bytes) -> list[dict[str, Any]] | None:
    """The rows of a ``resource`` page decoded to the mapping's fields, or None when this
    module has no schema for the resource or the page does not fit it (then decode it
    whole)."""
    decoder = DECODERS.get(resource)
    if decoder is None:
        return None
    try:
        body = decoder.decode(content)
    except msgspec.DecodeError:  # not JSON, or not the shape described: decoded whole
        return None
    rows: list[dict[str, Any]] = body[resource]
    return rows
