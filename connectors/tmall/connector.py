"""The Tmall connector: the order report and the product report, uploaded together (I7)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar

from connectors.files.base import (
    Batch,
    FileImport,
    ImportContext,
    Item,
    RowFailure,
    SpreadsheetConnector,
)
from connectors.files.cells import CHINA, CellError
from connectors.files.headers import canonical_headers
from connectors.files.limits import Limits
from connectors.files.reader import Table, open_table
from connectors.tmall import mapping
from connectors.tmall.template import (
    MAX_ROWS,
    ORDER_REQUIRED,
    ORDER_TEMPLATE,
    PRODUCT_LINE_NO,
    PRODUCT_ORDER_NO,
    PRODUCT_REQUIRED,
    PRODUCT_TEMPLATE,
)
from hub.core.errors import N_, Refused
from hub.core.records import LineRecord

Lines = dict[str, list[LineRecord] | str]  # order no -> lines, or why its lines failed
KNOWN = {*ORDER_TEMPLATE, *ORDER_REQUIRED, *PRODUCT_TEMPLATE, *PRODUCT_REQUIRED,
         *PRODUCT_ORDER_NO, PRODUCT_LINE_NO}  # fmt: skip


def names(table: Table) -> list[str]:
    """The table's headers, each spelled as the Tmall export does (``header_key``: spaces,
    case, full-width forms and '*' do not matter)."""
    return canonical_headers(table.headers, KNOWN)


class TmallImport(FileImport):
    def __init__(self, orders: Table, products: Table, tz: tzinfo = CHINA):
        self.table = orders
        self.tz = tz  # the workspace's zone: the reports' times are its wall time
        self.products = products
        self.summary = {"order_report": orders.path.name, "product_report": products.path.name}
        self._total = 0
        self._by_order: Lines | None = None

    def prepare(self) -> None:
        """Count the order report and read the product report, each within its row limit."""
        self._total = self.table.count_rows()
        self._by_order = self._lines()

    def total_rows(self) -> int:
        return self._total

    def batches(self, size: int) -> Iterator[Batch]:
        if self._by_order is None:
            self.prepare()
        lines = self._by_order or {}
        headers = names(self.table)
        batch = Batch()
        for row in self.table.rows():
            batch.add_row(row)
            cells = dict(zip(headers, row.cells, strict=True))
            found = lines.get(mapping.text(cells["订单编号"]), [])
            try:
                if isinstance(found, str):
                    raise CellError(found)
                batch.items.append(Item(mapping.parse_order(cells, found, self.tz), [row]))
            except mapping.NotTaken:
                batch.skipped += 1
            except CellError as exc:
                batch.failures.append(RowFailure(row, str(exc)))
            if batch.full(size):
                yield batch
                batch = Batch()
        if batch.rows:
            yield batch

    def _lines(self) -> Lines:
        """The product report by order no (it is small next to the orders it describes)."""
        headers = names(self.products)
        order_col = next(h for h in PRODUCT_ORDER_NO if h in headers)
        out: Lines = {}
        for row in self.products.held_rows():
            cells = dict(zip(headers, row.cells, strict=True))
            order_no = mapping.text(cells[order_col])
            have = out.setdefault(order_no, [])
            if isinstance(have, str):
                continue
            try:
                have.append(mapping.parse_line(cells, len(have) + 1))
            except CellError as exc:
                out[order_no] = f"product report line {row.line}: {exc}"
        return out


def _classify(tables: list[Table]) -> tuple[Table, Table]:
    orders = [t for t in tables if {"买家会员名", "收货地址"} & set(names(t))]
    products = [t for t in tables if t not in orders]
    if len(orders) != 1 or len(products) != 1:
        raise Refused(
            N_(
                "A Tmall import needs two files from Seller Center, uploaded together: the order "
                "report (ExportOrderList) and the product report (ExportOrderDetailList)."
            )
        )
    _require(orders[0], ORDER_REQUIRED, MISSING_ORDER)
    if not set(PRODUCT_ORDER_NO) & set(names(products[0])):
        _require(products[0], PRODUCT_ORDER_NO[:1], MISSING_PRODUCT)
    _require(products[0], PRODUCT_REQUIRED, MISSING_PRODUCT)
    return orders[0], products[0]


MISSING_ORDER = N_(
    "The order report %(file)s has no column %(columns)s. Upload the report as Tmall Seller "
    "Center exports it, without renaming or removing columns."
)
MISSING_PRODUCT = N_(
    "The product report %(file)s has no column %(columns)s. Upload the report as Tmall Seller "
    "Center exports it, without renaming or removing columns."
)


def _require(table: Table, required: Sequence[str], message: str) -> None:
    have = names(table)
    missing = [h for h in required if h not in have]
    if missing:
        raise Refused(message, field=missing[0], file=table.label, columns=", ".join(missing))


class TmallConnector(SpreadsheetConnector):
    platform: ClassVar[str] = "tmall"
    display_name: ClassVar[str] = "Tmall order reports"
    import_kind: ClassVar[str] = "tmall-orders"
    entity: ClassVar[str] = "orders"
    samples: ClassVar[tuple[str, ...]] = ("ExportOrderList.csv", "ExportOrderDetailList.csv")
    file_count: ClassVar[int] = 2
    files_expected: ClassVar[str] = N_(
        "A Tmall import takes two files, chosen together: the order report (ExportOrderList) "
        "and the product report (ExportOrderDetailList) exported from Tmall Seller Center. "
        "You chose %(count)s."
    )
    limits: ClassVar[Limits] = Limits(rows=MAX_ROWS)

    @classmethod
    def template(cls) -> tuple[list[str], list[list[str]]]:
        """The order report's header (the product report's is PRODUCT_TEMPLATE)."""
        return list(ORDER_TEMPLATE), []

    @classmethod
    def check_upload(cls, files: Sequence[tuple[Path, str]]) -> None:
        """Two files: one order report and one product report, with their columns."""
        cls.check_count(files)
        _classify([open_table(p, n, cls.limits) for p, n in files])

    @classmethod
    def open_import(
        cls, files: Sequence[tuple[Path, str]], settings: dict[str, Any], context: ImportContext
    ) -> TmallImport:
        cls.check_count(files)
        orders, products = _classify([open_table(p, n, cls.limits) for p, n in files])
        return TmallImport(orders, products, context.zone)
