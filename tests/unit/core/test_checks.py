"""The check at the core's boundary (issue 21.2): a record that breaks the contract of
hub.core.records is refused with an error naming the record and the field."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.core.checks import check_records
from hub.core.errors import InvalidRecord, ValidationFailed
from hub.core.records import (
    CustomerRecord,
    DeletionRecord,
    LineRecord,
    OrderRecord,
    ProductRecord,
    RefundRecord,
)
from tests.support.orders import T0, order, shop_batch

NAIVE = datetime(2026, 1, 1, 8, 0)


def _set(path: str, value: Any) -> Any:
    """A function that breaks one field of an order: ``lines[1].paid`` and the like."""

    def apply(rec: OrderRecord) -> None:
        target: Any = rec
        *parents, last = path.split(".")
        for part in parents:
            name, _, index = part.partition("[")
            target = getattr(target, name)
            if index:
                target = target[int(index.rstrip("]"))]
        setattr(target, last, value)

    return apply


# (field, bad value, words the message must hold)
BROKEN = [
    ("source", "", "must not be empty"),
    ("external_id", "", "must not be empty"),
    ("external_id", 1001, "must be a string (a platform id), not int"),
    ("status", "refunded", "must be one of pending, paid, shipped, completed, closed"),
    ("ordered_at", NAIVE, "must be timezone-aware, not the naive time 2026-01-01T08:00:00"),
    ("ordered_at", "2026-01-01T08:00:00+08:00", "must be a timezone-aware datetime, not str"),
    ("ordered_at", None, "must be a timezone-aware datetime, not NoneType"),
    ("updated_at", NAIVE, "must be timezone-aware"),
    ("paid_at", NAIVE, "must be timezone-aware"),
    ("closed_at", NAIVE, "must be timezone-aware"),
    ("amount_total", 12.5, "money must not be a float (12.5): use Decimal"),
    ("amount_paid", "12.50", "money must be a Decimal, not str"),
    ("order_no", 7, "must be a string (a platform id), not int"),
    ("store_id", 3, "must be a string (a platform id), not int"),
    ("payment_no", 9, "must be a string (a platform id), not int"),
    ("version", "3", "must be an int, not str"),
    ("buyer", {"mobile": "13912340000"}, "must be a CustomerRecord, not dict"),
    ("buyer.identities", [("", "x")], "buyer.identities[0] must be a (type, value) pair"),
    ("buyer.identities", ["yz-1"], "buyer.identities[0] must be a (type, value) pair with a type"),
    ("lines[1].external_id", "", "must not be empty"),
    ("lines[1].product_external_id", 42, "must be a string (a platform id), not int"),
    ("lines[1].sku_id", 42, "must be a string (a platform id), not int"),
    ("lines[1].qty", 1.0, "must be an int, not float"),
    ("lines[1].unit_price", 0.1, "money must not be a float"),
    ("lines[1].total", 0.1, "money must not be a float"),
    ("lines[1].paid", 0.1, "money must not be a float"),
    ("refunds[0].external_id", None, "must be a string (a platform id), not NoneType"),
    ("refunds[0].amount", 5.0, "money must not be a float"),
    ("refunds[0].refunded_at", NAIVE, "must be timezone-aware"),
]


@pytest.mark.parametrize(("field", "value", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_order_field_is_named_with_the_order(field: str, value: Any, words: str) -> None:
    batch = shop_batch(0, 30, 10)
    bad = order("E-bad", refunds=[("R1", "5.00")], source="youzan")
    _set(field, value)(bad)
    batch.insert(17, bad)
    with pytest.raises(InvalidRecord) as caught:
        check_records(batch)
    problem = words if words.startswith(field) else f"{field} {words}"
    named = f"order {bad.external_id!r} from {bad.source!r} (record 17 of the batch): {problem}"
    assert str(caught.value).startswith(named)
    assert (caught.value.field, caught.value.row) == (problem.split()[0], 17)


def test_a_line_that_is_not_a_line_record_is_named() -> None:
    bad = order("E2")
    bad.lines.append({"external_id": "E2-9"})  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match=r"order 'E2' from 'fake' \(record 0 of the batch\): "
                       r"lines\[2\] must be a LineRecord, not dict"):  # fmt: skip
        check_records([bad])


def test_the_error_is_a_system_validation_error_and_a_type_error() -> None:
    """Typed: the import and the API take it as a ValidationFailed, the sync engine records it
    as a system error (the code that built the record is at fault), and it is a TypeError."""
    bad = order("E3")
    bad.amount_paid = 1.5  # type: ignore[assignment]
    with pytest.raises(InvalidRecord) as caught:
        check_records([bad])
    assert isinstance(caught.value, ValidationFailed) and isinstance(caught.value, TypeError)
    assert caught.value.error_class == "system"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (CustomerRecord(identities=[("mobile",)]),  # type: ignore[list-item]
         "customer (record 0 of the batch): identities[0] must be a (type, value) pair"),
        (CustomerRecord(identities=[("mobile", "139"), (None, "x")]),  # type: ignore[list-item]
         "customer '139' (record 0 of the batch): identities[1] must be a (type, value) pair"),
        (ProductRecord(source="tmall", external_id="P1", price=9.9),  # type: ignore[arg-type]
         "product 'P1' from 'tmall' (record 0 of the batch): price money must not be a float"),
        (ProductRecord(source="tmall", external_id=""),
         "product '' from 'tmall' (record 0 of the batch): external_id must not be empty"),
        (DeletionRecord(source="youzan", object="customer", external_id="C1"),
         "deletion of customer 'C1' from 'youzan' (record 0 of the batch): object must be one "
         "of order, product, not 'customer'"),
        (LineRecord(external_id="L1"),
         "record 0 of the batch is not a canonical record (LineRecord)"),
    ],
)  # fmt: skip
def test_other_records_are_named_by_kind_and_key(record: Any, message: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        check_records([record])
    assert str(caught.value).startswith(message)


def test_records_that_keep_the_contract_pass() -> None:
    """Optional fields left None, identities with any value (the resolver judges values),
    refunds, products, deletions and a datetime subclass (pandas' Timestamp is one)."""

    class Stamp(datetime):
        pass

    rec = order("E4", refunds=[("R1", "1.00")], identities=[("mobile", "junk"), ("email", "")])
    rec.updated_at = rec.paid_at = rec.closed_at = rec.version = None
    rec.ordered_at = Stamp(2026, 1, 1, tzinfo=T0.tzinfo)
    rec.lines.append(LineRecord(external_id="E4-x"))
    rec.refunds.append(RefundRecord(external_id="R2", amount=Decimal("1"), refunded_at=T0))
    check_records(
        [
            rec,
            CustomerRecord(identities=[]),
            ProductRecord(source="tmall", external_id="P1", price=Decimal("9.90")),
            DeletionRecord(source="tmall", object="product", external_id="P1"),
            *shop_batch(0, 200, 50),
        ]
    )
