"""The check at the core's boundary: every batch handed to ``ingest.apply`` keeps the contract
of :mod:`hub.core.records` (money Decimal, time timezone-aware, platform ids non-empty
strings, statuses known), or the batch is refused before anything is read or written.

A record that breaks the contract is a mistake in the code that built it (a connector's
mapping, an import's reader), not in the merchant's data, so the whole batch fails with one
:class:`~hub.core.errors.InvalidRecord` naming the record (kind, key, place in the batch) and
the field: the sync run or import fails with that message and the stream's cursor does not
move past the records. What the data itself may get wrong (a junk identity, an unknown buyer)
stays a per-record failure of ``apply``.

The check is straight-line attribute tests on the records (no schema objects, no copies):
3 to 4 % of the CPU ``apply`` spends on an order (bench/record_checks.py). It tests types and
emptiness, not values: a Decimal NaN or a mobile of letters passes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from hub.core import checkfields as fields
from hub.core.errors import InvalidRecord
from hub.core.records import (
    STATUSES,
    CheckoutRecord,
    CustomerRecord,
    DeletionRecord,
    LineRecord,
    OrderRecord,
    PrivacyRecord,
    ProductRecord,
    RefundRecord,
)

KNOWN_STATUSES = frozenset(STATUSES)
MONEY_OR_NONE = frozenset({Decimal, type(None)})
TEXT_OR_NONE = frozenset({str, type(None)})
INT_OR_NONE = frozenset({int, type(None)})
DELETABLE = frozenset({"order", "product"})
PRIVACY_ACTIONS = ("data_request", "customer_redact", "shop_redact")

# (field, what is wrong) or None
Fault = tuple[str, str] | None


def check_records(records: Sequence[object]) -> None:
    """Raise :class:`InvalidRecord` for the first record of ``records`` that breaks the
    contract; return None when all keep it."""
    fault: Fault
    for index, rec in enumerate(records):
        if type(rec) is OrderRecord and _order_keeps(rec):
            continue  # the common case: one expression, no call per field
        if isinstance(rec, OrderRecord):
            fault = _order(rec) or ("", "breaks the contract of hub.core.records")
        elif isinstance(rec, CustomerRecord):
            fault = _customer(rec)
        elif isinstance(rec, ProductRecord):
            fault = _product(rec)
        elif isinstance(rec, DeletionRecord):
            fault = _deletion(rec)
        elif isinstance(rec, CheckoutRecord):
            fault = _checkout(rec)
        elif isinstance(rec, PrivacyRecord):
            fault = _privacy(rec)
        else:
            kind = type(rec).__name__
            raise InvalidRecord(f"record {index} of the batch is not a canonical record ({kind})",
                                field=None, row=index)  # fmt: skip
        if fault is not None:
            raise InvalidRecord(f"{describe(rec, index)}: {fault[0]} {fault[1]}",
                                field=fault[0], row=index)  # fmt: skip


def describe(rec: object, index: int) -> str:
    """``order 'E1' from youzan (record 3 of the batch)``: the record named for a person."""
    where = f"record {index} of the batch"
    if isinstance(rec, CustomerRecord):
        first = rec.identities[0] if rec.identities else None
        key = first[1] if type(first) is tuple and len(first) == 2 else None
        return f"customer {key!r} ({where})" if key is not None else f"customer ({where})"
    kind = {OrderRecord: "order", ProductRecord: "product", CheckoutRecord: "checkout"}.get(
        type(rec)
    )
    if kind is None and isinstance(rec, DeletionRecord):
        kind = f"deletion of {rec.object}"
    if isinstance(rec, PrivacyRecord):
        return f"privacy request {rec.request_id!r} from {rec.source!r} ({where})"
    ext, source = getattr(rec, "external_id", None), getattr(rec, "source", None)
    return f"{kind or type(rec).__name__} {ext!r} from {source!r} ({where})"


def _order_keeps(r: OrderRecord) -> bool:
    """True when the order keeps the contract, tested in as few steps as Python allows (the
    check's cost is this function's); ``_order`` finds the field when it does not. The two
    test the same rules (tests/unit/core/test_checks.py breaks each in turn)."""
    at = r.ordered_at
    if not (
        type(r.source) is str and r.source and type(r.external_id) is str and r.external_id
        and r.status in KNOWN_STATUSES and isinstance(at, datetime) and at.tzinfo is not None
        and type(r.amount_total) in MONEY_OR_NONE and type(r.amount_paid) in MONEY_OR_NONE
        and type(r.order_no) in TEXT_OR_NONE and type(r.store_id) in TEXT_OR_NONE
        and type(r.payment_no) in TEXT_OR_NONE and type(r.version) in INT_OR_NONE
    ):  # fmt: skip
        return False
    up, paid, closed = r.updated_at, r.paid_at, r.closed_at
    if not (
        (up is None or (isinstance(up, datetime) and up.tzinfo is not None))
        and (paid is None or (isinstance(paid, datetime) and paid.tzinfo is not None))
        and (closed is None or (isinstance(closed, datetime) and closed.tzinfo is not None))
    ):
        return False
    buyer = r.buyer
    if buyer is not None:
        if type(buyer) is not CustomerRecord:
            return False
        for pair in buyer.identities:
            if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str or not pair[0]:
                return False
    for li in r.lines:
        if not (
            type(li) is LineRecord and type(li.external_id) is str and li.external_id
            and type(li.qty) is int and type(li.unit_price) in MONEY_OR_NONE
            and type(li.total) in MONEY_OR_NONE and type(li.paid) in MONEY_OR_NONE
            and type(li.product_external_id) in TEXT_OR_NONE and type(li.sku_id) in TEXT_OR_NONE
        ):  # fmt: skip
            return False
    return all(_refund(refund) is None for refund in r.refunds) if r.refunds else True


def _order(rec: OrderRecord) -> Fault:
    """Which field of the order breaks the contract, and how."""
    fault = fields.platform_id("source", rec.source) or fields.platform_id(
        "external_id", rec.external_id
    )
    if fault:
        return fault
    if rec.status not in KNOWN_STATUSES:
        return "status", f"must be one of {', '.join(STATUSES)}, not {rec.status!r}"
    if not fields.aware(rec.ordered_at):
        return "ordered_at", fields.not_aware(rec.ordered_at)
    for name in ("updated_at", "paid_at", "closed_at"):
        value = getattr(rec, name)
        if value is not None and not fields.aware(value):
            return name, fields.not_aware(value)
    for name in ("amount_total", "amount_paid"):
        value = getattr(rec, name)
        if value is not None and not fields.money(value):
            return name, fields.not_money(value)
    for name in ("order_no", "store_id", "payment_no"):
        value = getattr(rec, name)
        if value is not None and type(value) is not str:
            return name, f"must be a string (a platform id), not {type(value).__name__}"
    if rec.version is not None and type(rec.version) is not int:
        return "version", f"must be an int, not {type(rec.version).__name__}"
    fault = _buyer_and_lines(rec)
    if fault:
        return fault
    for i, refund in enumerate(rec.refunds):
        fault = _refund(refund)
        if fault:
            return fields.within(f"refunds[{i}]", fault)
    return None


def _line(line: LineRecord) -> Fault:
    if not isinstance(line, LineRecord):
        return "", f"must be a LineRecord, not {type(line).__name__}"
    fault = fields.platform_id("external_id", line.external_id)
    if fault:
        return fault
    if type(line.qty) is not int:
        return "qty", f"must be an int, not {type(line.qty).__name__}"
    for name in ("unit_price", "total", "paid"):
        value = getattr(line, name)
        if value is not None and not fields.money(value):
            return name, fields.not_money(value)
    for name in ("product_external_id", "sku_id"):
        value = getattr(line, name)
        if value is not None and type(value) is not str:
            return name, f"must be a string (a platform id), not {type(value).__name__}"
    return None


def _refund(refund: RefundRecord) -> Fault:
    if type(refund) is not RefundRecord:
        return "", f"must be a RefundRecord, not {type(refund).__name__}"
    fault = fields.platform_id("external_id", refund.external_id)
    if fault:
        return fault
    if not fields.money(refund.amount):
        return "amount", fields.not_money(refund.amount)
    if not fields.aware(refund.refunded_at):
        return "refunded_at", fields.not_aware(refund.refunded_at)
    return None


def _customer(rec: CustomerRecord) -> Fault:
    """The identities' values are the data's business (normalised, junk blocked, reported
    per record by the resolver); their shape is the connector's."""
    for i, pair in enumerate(rec.identities):
        if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str or not pair[0]:
            return f"identities[{i}]", f"must be a (type, value) pair with a type, not {pair!r}"
    return None


def _product(rec: ProductRecord) -> Fault:
    fault = fields.platform_id("source", rec.source) or fields.platform_id(
        "external_id", rec.external_id
    )
    if fault:
        return fault
    if rec.price is not None and not fields.money(rec.price):
        return "price", fields.not_money(rec.price)
    return None


def _deletion(rec: DeletionRecord) -> Fault:
    fault = fields.platform_id("source", rec.source) or fields.platform_id(
        "external_id", rec.external_id
    )
    if fault:
        return fault
    if rec.object not in DELETABLE:
        return "object", f"must be one of order, product, not {rec.object!r}"
    return None


def _checkout(rec: CheckoutRecord) -> Fault:
    """Which field of the checkout breaks the contract, and how (H6)."""
    fault = fields.platform_id("source", rec.source) or fields.platform_id(
        "external_id", rec.external_id
    )
    if fault:
        return fault
    if not fields.aware(rec.created_at):
        return "created_at", fields.not_aware(rec.created_at)
    for name in ("updated_at", "completed_at"):
        value = getattr(rec, name)
        if value is not None and not fields.aware(value):
            return name, fields.not_aware(value)
    if rec.amount_total is not None and not fields.money(rec.amount_total):
        return "amount_total", fields.not_money(rec.amount_total)
    if rec.token is not None and type(rec.token) is not str:
        return "token", f"must be a string, not {type(rec.token).__name__}"
    if type(rec.currency) is not str:
        return "currency", f"must be a string, not {type(rec.currency).__name__}"
    return _buyer_and_lines(rec)


def _buyer_and_lines(rec: OrderRecord | CheckoutRecord) -> Fault:
    """The buyer and the lines of an order or a checkout, the field named from the record."""
    if rec.buyer is not None:
        if not isinstance(rec.buyer, CustomerRecord):
            return "buyer", f"must be a CustomerRecord, not {type(rec.buyer).__name__}"
        fault = _customer(rec.buyer)
        if fault:
            return fields.within("buyer", fault)
    for i, line in enumerate(rec.lines):
        fault = _line(line)
        if fault:
            return fields.within(f"lines[{i}]", fault)
    return None


def _privacy(rec: PrivacyRecord) -> Fault:
    fault = fields.platform_id("source", rec.source)
    if fault:
        return fault
    if rec.action not in PRIVACY_ACTIONS:
        return "action", f"must be one of {', '.join(PRIVACY_ACTIONS)}, not {rec.action!r}"
    for name in ("request_id", "customer_external_id", "email", "phone"):
        value = getattr(rec, name)
        if value is not None and type(value) is not str:
            return name, f"must be a string, not {type(value).__name__}"
    for i, order in enumerate(rec.orders):
        if type(order) is not str or not order:
            return f"orders[{i}]", f"must be a non-empty string (a platform id), not {order!r}"
    named = rec.customer_external_id or rec.email or rec.phone or rec.orders
    if rec.action != "shop_redact" and not named:
        return "customer_external_id", "or email, phone or orders must name the customer"
    return None
