"""Checks of imported records that need the database, run before the batch reaches ingest.
A file connector's ``precheck`` hook chooses among them (``DatabaseChecks``, the hub's side
of ``hub.connectors.Prechecks``).

Customers (I4): an unknown customer id fails; with a customer id, an identity that belongs
to another customer fails; without one, identities that match several customers fail.
Sobot (S4): a new product under a known order no merges into the order, so the stored lines
are added to the record (the core replaces an order's lines with the snapshot's).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.records import CustomerRecord, LineRecord, OrderRecord
from hub.models import Customer, Identity, Order, OrderLine

CHUNK = 500
MAX_ID = 2**31 - 1  # ids are INTEGER columns (32 bits on PostgreSQL)
PLAIN_KEYS = ("customer_id", "mobile", "email")


class DatabaseChecks:
    """The checks against one workspace's stored customers and orders."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def customers(self, records: list[CustomerRecord]) -> dict[int, str]:
        return check_customers(self.session, self.workspace_id, records)

    def merge_stored_lines(self, records: list[OrderRecord]) -> None:
        merge_stored_lines(self.session, self.workspace_id, records)


def check_customers(
    session: Session, workspace_id: int, records: list[CustomerRecord]
) -> dict[int, str]:
    """Reasons by record index for records that must fail (I4)."""
    ids = {v for r in records for t, v in r.identities if t == "customer_id"}
    known = _existing_customers(session, workspace_id, ids)
    pairs = {(t, v) for r in records for t, v in r.identities if t not in PLAIN_KEYS}
    owners = _owners(session, workspace_id, pairs)
    failed: dict[int, str] = {}
    for i, record in enumerate(records):
        reason = _customer_reason(record, known, owners)
        if reason:
            failed[i] = reason
    return failed


def _customer_reason(
    record: CustomerRecord, known: dict[str, int], owners: dict[tuple[str, str], int]
) -> str | None:
    cid = next((v for t, v in record.identities if t == "customer_id"), None)
    matched = {(t, v): owners[(t, v)] for t, v in record.identities if (t, v) in owners}
    if cid is not None:
        if cid not in known:
            return f"customer id: {cid} does not exist in this workspace"
        for (t, v), owner in matched.items():
            if owner != known[cid]:
                return (f"{_label(t)}: {v} belongs to another customer (#{owner}), not to "
                        f"customer #{cid}; correct the row or merge the two first")  # fmt: skip
        return None
    distinct = sorted(set(matched.values()))
    if len(distinct) > 1:
        found = ", ".join(f"{_label(t)} {v} is customer #{o}" for (t, v), o in matched.items())
        return (f"identities match several customers ({found}); merge them first or "
                "correct the row")  # fmt: skip
    return None


IDENTITY_LABELS = {"mobile": "Mobile", "email": "Email", "wx_openid": "WeChat openid",
                   "wx_unionid": "WeChat unionid", "yz_open_id": "Youzan open id",
                   "sobot_id": "Sobot customer id", "tmall_buyer": "Tmall buyer name",
                   "shopify_customer_id": "Shopify customer id"}  # fmt: skip


def _label(identity_type: str) -> str:
    """An identity type in words (a custom one keeps its name)."""
    return IDENTITY_LABELS.get(identity_type, identity_type)


def _existing_customers(session: Session, workspace_id: int, ids: set[str]) -> dict[str, int]:
    """customer id (text) -> the live customer it is (following merges)."""
    numbers = sorted(n for n in map(int, ids) if n <= MAX_ID)  # larger ones cannot exist
    out: dict[str, int] = {}
    for i in range(0, len(numbers), CHUNK):
        rows = session.execute(
            select(Customer.id, Customer.merged_into_id).where(
                Customer.workspace_id == workspace_id, Customer.id.in_(numbers[i : i + CHUNK])
            )
        )
        out.update({str(cid): merged or cid for cid, merged in rows})
    return out


def _owners(
    session: Session, workspace_id: int, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    by_type: dict[str, list[str]] = defaultdict(list)
    for t, v in pairs:
        by_type[t].append(v)
    out: dict[tuple[str, str], int] = {}
    for t, values in by_type.items():
        for i in range(0, len(values), CHUNK):
            rows = session.execute(
                select(Identity.value, Identity.customer_id).where(
                    Identity.workspace_id == workspace_id,
                    Identity.type == t,
                    Identity.value.in_(values[i : i + CHUNK]),
                )
            )
            out.update({(t, value): cid for value, cid in rows})
    return out


def merge_stored_lines(session: Session, workspace_id: int, records: list[OrderRecord]) -> None:
    """S4: keep the stored lines an import does not mention; totals follow when they were
    derived from the lines."""
    by_no = {r.external_id: r for r in records}
    if not by_no:
        return
    source = records[0].source
    stored: dict[str, list[OrderLine]] = defaultdict(list)
    keys = sorted(by_no)
    for i in range(0, len(keys), CHUNK):
        rows = session.execute(
            select(Order.external_id, OrderLine)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.workspace_id == workspace_id, Order.source == source,
                   Order.external_id.in_(keys[i : i + CHUNK]))
        )  # fmt: skip
        for ext, line in rows:
            stored[ext].append(line)
    for ext, lines in stored.items():
        _merge(by_no[ext], lines)


def _merge(record: OrderRecord, lines: list[OrderLine]) -> None:
    mentioned = {ln.external_id for ln in record.lines}
    extra = [_line(ln) for ln in lines if ln.external_id not in mentioned]
    if not extra:
        return
    derived = sum((ln.total or Decimal("0") for ln in record.lines), Decimal("0"))
    paid_follows = record.amount_paid is not None and record.amount_paid == record.amount_total
    record.lines = [*record.lines, *extra]
    if record.amount_total == derived:
        record.amount_total = sum((ln.total or Decimal("0") for ln in record.lines), Decimal("0"))
        if paid_follows:
            record.amount_paid = record.amount_total


def _line(line: OrderLine) -> LineRecord:
    return LineRecord(
        external_id=line.external_id,
        product_external_id=line.product_external_id,
        sku_id=line.sku_id,
        name=line.name,
        qty=line.qty,
        unit_price=line.unit_price,
        total=line.total,
        paid=line.paid,
        properties=dict(line.properties or {}),
    )
