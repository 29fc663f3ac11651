"""Pure mapping of Sobot template rows to orders and products (S2-S6). No database here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal

from connectors.files.base import Item, RowFailure
from connectors.files.cells import CHINA, CellError, local_time, money, quantity
from connectors.files.headers import find_columns, header_key
from connectors.files.reader import SourceRow
from connectors.sobot.template import ALIASES, COLUMNS, SOURCES, STATUSES, TIME_FORMAT
from hub.core.errors import N_, Refused
from hub.core.normalise import InvalidValue, normalise_mobile
from hub.core.records import CustomerRecord, LineRecord, OrderRecord, ProductRecord

SOURCE = "sobot"
HEADER_FIELDS = ("source", "status", "ordered_at", "store_id", "store_no", "buyer")
_key = header_key

SOURCE_NAMES = {_key(n): name for name, alt in SOURCES.items() for n in (name, *alt)}
STATUS_NAMES = {_key(n): name for name, (_, alt) in STATUSES.items() for n in (name, *alt)}


def header_index(headers: Sequence[str]) -> dict[str, int]:
    """Find each template column by its English or Chinese name or an alias (``*``, case,
    spaces and full-width forms do not matter: ``connectors.files.headers``)."""
    names = {f: (en, cn, *ALIASES.get(f, ())) for f, (en, cn, _req) in COLUMNS.items()}
    index = find_columns(headers, names)
    missing = [f for f, (_en, _cn, required) in COLUMNS.items() if required and f not in index]
    if missing:
        en, cn, _req = COLUMNS[missing[0]]
        raise Refused(
            N_("The file has no “%(column)s” column (%(chinese)s), which is required. "
               "Name the columns as in the Sobot template (download it on the upload page)."),
            field=en, column=en, chinese=cn,
        )  # fmt: skip
    return index


@dataclass(slots=True)
class SobotRow:
    order_no: str
    source: str
    platform_status: str
    status: str
    ordered_at: object
    store_id: str | None
    store_no: str | None
    buyer: CustomerRecord
    line: LineRecord
    order_amount: Decimal | None
    paid_amount: Decimal | None

    def header(self) -> tuple:
        b = self.buyer
        return (self.source, self.status, self.ordered_at, self.store_id, self.store_no,
                tuple(b.identities))  # fmt: skip


def parse_row(cells: Sequence[str], index: dict[str, int], tz: tzinfo = CHINA) -> SobotRow:
    """Validate one row fully; raises CellError naming the column and the rule. The order time
    is wall time of ``tz``, the workspace's zone (unless the cell writes its offset)."""
    v = {f: cells[i].strip() for f, i in index.items()}
    for field, (en, _cn, required) in COLUMNS.items():
        if required and not v.get(field):
            raise CellError(f"{en}: blank; it is required (marked * in the template)")
    source = SOURCE_NAMES.get(_key(v["order_source"]))
    if source is None:
        raise CellError(
            f"Order Source: {v['order_source']!r} is not a source Sobot takes; use one of "
            + ", ".join(SOURCES)
        )
    status_name = STATUS_NAMES.get(_key(v["order_status"]))
    if status_name is None:
        raise CellError(
            f"Order Status: {v['order_status']!r} is not a Sobot order status; use one of "
            + ", ".join(s for s, (st, _alt) in STATUSES.items() if st)
        )
    status = STATUSES[status_name][0]
    if status is None:
        raise CellError(
            f"Order Status: {status_name!r} cannot be imported; give the order's real status"
        )
    if not (v.get("store_no") or v.get("store_id")):
        raise CellError("Store No and Store ID: both blank; fill in at least one of them")
    return SobotRow(
        order_no=v["order_no"],
        source=source,
        platform_status=status_name,
        status=status,
        ordered_at=local_time(v["order_time"], "Order Time", TIME_FORMAT, tz),
        store_id=v.get("store_id") or None,
        store_no=v.get("store_no") or None,
        buyer=_buyer(v),
        line=_line(v),
        order_amount=_optional_money(v, "order_amount"),
        paid_amount=_optional_money(v, "paid_amount"),
    )


def _optional_money(v: dict[str, str], field: str) -> Decimal | None:
    return money(v[field], COLUMNS[field][0]) if v.get(field) else None


def _buyer(v: dict[str, str]) -> CustomerRecord:
    """S5: customer id > mobile > unionid > nickname; nickname alone makes a new customer."""
    mobile = None
    if v.get("buyer_mobile"):
        try:
            mobile = normalise_mobile(v["buyer_mobile"])
        except InvalidValue as exc:
            raise CellError(f"Buyer Mobile: {exc}") from None
    pairs = [
        ("sobot_id", v.get("buyer_customer_id")),
        ("mobile", mobile),
        ("wx_unionid", v.get("buyer_unionid")),
        ("nickname", v.get("buyer_nickname")),
    ]
    identities = [(t, val) for t, val in pairs if val and t != "nickname"]
    if not identities and not v.get("buyer_nickname"):
        raise CellError(
            "Buyer Sobot Customer ID, Buyer Mobile, Buyer WeChat Unionid and Buyer Nickname: "
            "all blank; fill in at least one of them"
        )
    nickname = v.get("buyer_nickname") or None
    if not identities:
        # A nickname alone never matches a customer (S5): a new one, keyed on the order so
        # that a re-import finds the same customer (X1).
        identities = [("sobot_order_buyer", v["order_no"])]
    return CustomerRecord(identities=identities, name=nickname, mobile=mobile)


def _line(v: dict[str, str]) -> LineRecord:
    qty = quantity(v["quantity"], "Quantity")
    price = money(v["unit_price"], "Unit Price")
    total = _optional_money(v, "line_total")
    return LineRecord(
        external_id=v["sku"],
        product_external_id=v["product_id"],
        sku_id=v["sku"],
        name=v.get("product_name") or None,
        qty=qty,
        unit_price=price,
        total=total if total is not None else (price * qty).quantize(Decimal("0.01")),
    )


def build_items(parsed: list[tuple[SourceRow, SobotRow]]) -> tuple[list[Item], list[RowFailure]]:
    """Group rows by order no (S4); rows whose order header disagrees with the order's first
    row fail. Same order no + SKU: the later row updates the line."""
    orders: dict[str, tuple[SobotRow, list[SourceRow], dict[str, LineRecord]]] = {}
    failures: list[RowFailure] = []
    for src, row in parsed:
        first = orders.get(row.order_no)
        if first is not None and first[0].header() != row.header():
            failures.append(RowFailure(src, _disagreement(first[0], row, first[1][0].line)))
            continue
        if first is None:
            first = orders[row.order_no] = (row, [], {})
        first[1].append(src)
        first[2][row.line.external_id] = row.line
    items = [Item(_order(first, list(lines.values())), rows)
             for first, rows, lines in orders.values()]  # fmt: skip
    return items, failures


def products(parsed: list[tuple[SourceRow, SobotRow]], failed: set[int]) -> list[Item]:
    """S6: one product per product id, from the rows that did not fail (the last one wins)."""
    found: dict[str, Item] = {}
    for src, row in parsed:
        line = row.line
        if src.line in failed or not line.product_external_id:
            continue
        item = found.setdefault(
            line.product_external_id,
            Item(ProductRecord(SOURCE, line.product_external_id), []),
        )
        item.record.name = line.name or item.record.name  # type: ignore[union-attr]
        item.record.price = line.unit_price  # type: ignore[union-attr]
        item.rows.append(src)
    return list(found.values())


def _disagreement(first: SobotRow, row: SobotRow, line: int) -> str:
    names = ("Order Source", "Order Status", "Order Time", "Store ID", "Store No", "Buyer")
    for name, a, b in zip(names, first.header(), row.header(), strict=True):
        if a != b:
            return (f"{name}: differs from line {line}, an earlier row of order {row.order_no}; "
                    "the rows of one order must agree on it")  # fmt: skip
    return f"Order No {row.order_no}: differs from line {line}; the rows of one order must agree"


def _order(row: SobotRow, lines: list[LineRecord]) -> OrderRecord:
    total = row.order_amount
    if total is None:
        total = sum((ln.total or Decimal("0") for ln in lines), Decimal("0"))
    paid = row.paid_amount
    if paid is None and row.status != "pending":
        paid = total
    return OrderRecord(
        source=SOURCE,
        external_id=row.order_no,
        order_no=row.order_no,
        status=row.status,
        platform_status=row.platform_status,
        ordered_at=row.ordered_at,  # type: ignore[arg-type]
        buyer=row.buyer,
        lines=lines,
        amount_total=total,
        amount_paid=paid,
        sales_channel=row.source,
        store_id=row.store_id or row.store_no,
        properties={"store_no": row.store_no} if row.store_no else {},
    )
