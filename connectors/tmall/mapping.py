"""Pure mapping of Tmall's two reports to orders (I7), with the cell quirks of real exports."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import tzinfo
from decimal import Decimal

from connectors.files.cells import CHINA, CellError, local_time, money, quantity
from connectors.tmall.template import NOT_TAKEN, STATES
from hub.core.normalise import InvalidValue, normalise_mobile
from hub.core.records import Consignee, CustomerRecord, LineRecord, OrderRecord

SOURCE = "tmall"
POSTCODE = re.compile(r"\s*[(（](\d{6})[)）]\s*$")


class NotTaken(Exception):
    """An order in a state the import does not take (I7); counted as skipped."""


def text(value: str) -> str:
    """Undo Excel-proofing: ="123", =123 and '123 become 123."""
    value = value.strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1]
    elif value.startswith(("=", "'")):
        value = value[1:]
    return value.strip()


def status_of(raw: str) -> str:
    """The normalised status; raises NotTaken or CellError."""
    value = text(raw).replace(",", "，")
    if value in STATES:
        return STATES[value]
    if value in NOT_TAKEN:
        raise NotTaken(f"订单状态: {value} is not one of the four states taken")
    raise CellError(f"订单状态: {raw!r} is not a Tmall order status")


def split_address(raw: str) -> tuple[Consignee, str | None]:
    """'吉林省 通化市 柳河县 … 201室(135300)' -> consignee parts and the postcode."""
    value = text(raw)
    match = POSTCODE.search(value)
    postcode = match.group(1) if match else None
    if match:
        value = value[: match.start()]
    parts = value.split()
    if len(parts) >= 4:
        return Consignee(province=parts[0], city=parts[1], district=parts[2],
                         address=" ".join(parts[3:])), postcode  # fmt: skip
    return Consignee(address=value or None), postcode


def parse_line(cells: dict[str, str], position: int) -> LineRecord:
    """A product report row; raises CellError naming the column."""
    qty = quantity(text(cells["购买数量"]), "购买数量")
    price = money(text(cells["价格"]), "价格")
    code = text(cells.get("商家编码", "")) or text(cells.get("外部系统编号", "")) or None
    line_no = text(cells.get("子订单编号", "")) or str(position)
    attributes = text(cells.get("商品属性", ""))
    return LineRecord(
        external_id=line_no,
        product_external_id=code,
        sku_id=code,
        name=text(cells["标题"]) or None,
        qty=qty,
        unit_price=price,
        total=(price * qty).quantize(Decimal("0.01")),
        properties={"attributes": attributes} if attributes else {},
    )


def parse_order(
    cells: dict[str, str], lines: Sequence[LineRecord], tz: tzinfo = CHINA
) -> OrderRecord:
    """An order report row; raises NotTaken or CellError naming the column and the rule. Times
    are wall time of ``tz``, the workspace's zone."""
    order_no = text(cells["订单编号"])
    if not order_no:
        raise CellError("订单编号: required")
    status = status_of(cells["订单状态"])
    if not lines:
        raise CellError(f"订单编号: {order_no} has no row in the product report")
    consignee, postcode = split_address(cells["收货地址"])
    consignee.name = text(cells["收货人姓名"]) or None
    buyer = _buyer(cells, consignee)
    consignee.phone = buyer.mobile or text(cells["联系电话"]) or None
    paid_raw = text(cells["订单付款时间"])
    return OrderRecord(
        source=SOURCE,
        external_id=order_no,
        order_no=order_no,
        status=status,
        platform_status=text(cells["订单状态"]),
        ordered_at=local_time(text(cells["订单创建时间"]), "订单创建时间", tz=tz),
        paid_at=local_time(paid_raw, "订单付款时间", tz=tz) if paid_raw else None,
        buyer=buyer,
        lines=list(lines),
        amount_total=money(text(cells["总金额"]), "总金额"),
        amount_paid=money(text(cells["买家实际支付金额"]), "买家实际支付金额"),
        sales_channel="Tmall",
        store_id=text(cells["店铺Id"]) or None,
        store_name=text(cells["店铺名称"]) or None,
        consignee=consignee,
        properties={"postcode": postcode} if postcode else {},
    )


def _buyer(cells: dict[str, str], consignee: Consignee) -> CustomerRecord:
    """I7: matched by mobile, created when missing; the member name is kept as an identity."""
    raw = text(cells["联系手机"])
    mobile = None
    if raw:
        try:
            mobile = normalise_mobile(raw)
        except InvalidValue as exc:
            raise CellError(f"联系手机: {exc}") from None
    member = text(cells["买家会员名"])
    identities = [(t, v) for t, v in (("mobile", mobile), ("tmall_buyer", member)) if v]
    if not identities:
        raise CellError("联系手机 / 买家会员名: both blank, the buyer cannot be matched")
    return CustomerRecord(identities=identities, name=consignee.name, mobile=mobile)
