"""Tmall order import (I7): the order report and the product report together, real quirks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.tmall.template import ORDER_TEMPLATE, PRODUCT_TEMPLATE
from hub.core.errors import ValidationFailed
from hub.extensions import db
from hub.imports import service
from hub.models import (
    Customer,
    CustomerTag,
    Event,
    GroupMember,
    Identity,
    ImportRun,
    Order,
    OrderLine,
    Tag,
)
from tests.support.spreadsheets import IMPORT_CONNECTORS, read_csv, write_csv


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": list(IMPORT_CONNECTORS)}


def order(no: str, status: str = "交易成功", mobile: str = "'13800139000", **kw) -> list[str]:
    values = dict.fromkeys(ORDER_TEMPLATE, "")
    values.update(
        {
            "订单编号": f'="{no}"',
            "买家会员名": kw.get("member", "tea_fan"),
            "买家应付货款": "99.00",
            "买家应付邮费": "0.00",
            "总金额": kw.get("total", "99.00"),
            "买家实际支付金额": kw.get("paid", "99.00元"),
            "订单状态": status,
            "收货人姓名": "王芳",
            "收货地址": "吉林省 通化市 柳河县 柳河镇 某路1号 201室(135300)",
            "联系电话": "",
            "联系手机": mobile,
            "订单创建时间": kw.get("created", "2024-03-01 10:00:00"),
            "订单付款时间": "2024-03-01 10:05:00",
            "店铺Id": "TM-1",
            "店铺名称": "Tea Flagship",
        }
    )
    return [values[h] for h in ORDER_TEMPLATE]


def product(no: str, title: str = "龙井 250g", price: str = "49.50", qty: str = "2") -> list[str]:
    values = dict.fromkeys(PRODUCT_TEMPLATE, "")
    values.update(
        {
            "订单编号": f'="{no}"',
            "标题": title,
            "价格": price,
            "购买数量": qty,
            "商品属性": "规格:250g",
            "订单状态": "交易成功",
            "商家编码": "LJ-250",
        }
    )
    return [values[h] for h in PRODUCT_TEMPLATE]


def files(tmp_path: Path, orders: list, products: list, encoding: str = "gbk") -> list:
    o = write_csv(
        tmp_path / "ExportOrderList.csv",
        [[h + (" " if h == "收货地址" else "") for h in ORDER_TEMPLATE], *orders],
        encoding=encoding,
    )
    p = write_csv(
        tmp_path / "ExportOrderDetailList.csv",
        [PRODUCT_TEMPLATE, ["# comment"], [], *products],
        encoding=encoding,
    )
    return [(p.name, p), (o.name, o)]  # either order works


def run(ws, uploads: list, **kw) -> ImportRun:
    return service.start(ws.id, "tmall-orders", uploads, enqueue=False, **kw)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_i7_gbk_reports_joined_with_cell_quirks(workspace, tmp_path):
    uploads = files(
        tmp_path,
        [order("1930679858170647")],
        [product("1930679858170647"), product("1930679858170647", "杯子", "0", "1")],
    )
    result = run(workspace, uploads, settings={"group": "Tmall buyers", "tags": ["tmall"]})
    assert (result.status, result.created, result.failed) == ("succeeded", 1, 0)
    o = db.session.scalar(select(Order))
    assert (o.source, o.external_id, o.status) == ("tmall", "1930679858170647", "completed")
    assert o.amount_paid == Decimal("99.00") and o.consignee_province == "吉林省"
    assert o.consignee_address == "柳河镇 某路1号 201室" and o.properties["postcode"] == "135300"
    assert count(OrderLine) == 2
    buyer = db.session.get(Customer, o.customer_id)
    assert buyer.mobile == "13800139000" and buyer.name == "王芳"
    ids = set(db.session.execute(select(Identity.type, Identity.value)).all())
    assert ids == {("mobile", "13800139000"), ("tmall_buyer", "tea_fan")}
    assert count(GroupMember) == 1 and db.session.scalar(select(Tag.name)) == "tmall"
    assert count(CustomerTag) == 1
    event = db.session.scalar(select(Event))
    assert event.occurred_at.isoformat() == "2024-03-01T02:00:00+00:00"  # the order time


def test_i7_buyer_matched_by_mobile(workspace, tmp_path):
    known = Customer(workspace_id=workspace.id, name="Known")
    db.session.add(known)
    db.session.flush()
    db.session.add(
        Identity(
            workspace_id=workspace.id, customer_id=known.id, type="mobile", value="13800139000"
        )
    )
    db.session.commit()
    run(workspace, files(tmp_path, [order("1")], [product("1")], encoding="utf-8"))
    assert db.session.scalar(select(Order.customer_id)) == known.id and count(Customer) == 1


def test_i7_only_the_four_states_are_taken(workspace, tmp_path):
    orders = [
        order("1", "交易成功"),
        order("2", "买家已付款，等待卖家发货", "13900139002"),
        order("3", "卖家已发货,等待买家确认", "13900139003"),
        order("4", "卖家部分发货", "13900139004"),
        order("5", "等待买家付款", "13900139005"),
        order("6", "交易关闭", "13900139006"),
        order("7", "已退款", "13900139007"),
    ]
    products = [product(str(i)) for i in range(1, 8)]
    result = run(workspace, files(tmp_path, orders, products))
    statuses = dict(db.session.execute(select(Order.external_id, Order.status)).all())
    assert statuses == {"1": "completed", "2": "paid", "3": "shipped", "4": "paid"}
    assert (result.created, result.skipped, result.failed) == (4, 2, 1)
    failed = read_csv(Path(result.failure_path), "gb18030")
    assert (
        failed[0][-1] == "reason"
        and failed[1][-1] == "订单状态: '已退款' is not a Tmall order status"
    )
    assert failed[1][0] == '\'="7"'  # neutralised as it was written in the export


def test_i7_missing_header_refused_naming_it(workspace, tmp_path):
    uploads = files(tmp_path, [order("1")], [product("1")])
    path = uploads[1][1]
    path.write_bytes(path.read_bytes().replace("联系手机".encode("gbk"), "手机".encode("gbk")))
    with pytest.raises(ValidationFailed, match="The order report .* has no column 联系手机"):
        run(workspace, uploads)
    with pytest.raises(
        ValidationFailed, match="A Tmall import needs two files .* the order report"
    ):
        run(workspace, [uploads[0], uploads[0]])
    assert count(Order) == 0


def test_i7_bad_rows_fail_with_reasons_and_reimport_is_a_no_op(workspace, tmp_path):
    orders = [
        order("1"),
        order("2", mobile="'12345"),
        order("3", created="yesterday"),
        order("4", mobile="13900139004"),
        order("5", mobile="13900139005"),
    ]
    products = [product("1"), product("2"), product("3"), product("4", qty="x")]
    uploads = files(tmp_path, orders, products)
    result = run(workspace, uploads)
    assert (result.created, result.failed) == (1, 4)
    reasons = [r[-1] for r in read_csv(Path(result.failure_path), "gb18030")[1:]]
    assert reasons[0].startswith("联系手机: mobile '12345'")
    assert reasons[1].startswith("订单创建时间: 'yesterday'")
    assert reasons[2].startswith("product report line 7: 购买数量: 'x'")
    assert reasons[3] == "订单编号: 5 has no row in the product report"
    snapshot = (count(Order), count(OrderLine), count(Event), count(Customer), count(Identity))
    again = run(workspace, uploads)
    assert (again.created, again.updated) == (0, 0)
    assert (
        count(Order),
        count(OrderLine),
        count(Event),
        count(Customer),
        count(Identity),
    ) == snapshot


def test_bad_numbers_fail_their_order_not_the_import(workspace, tmp_path):
    orders = [
        order("1"),
        order("2", mobile="13900139002"),
        order("3", mobile="13900139003", total="1e999999"),
    ]
    products = [product("1", qty="²"), product("2"), product("3")]
    result = run(workspace, files(tmp_path, orders, products, encoding="utf-8"))
    assert (result.status, result.created, result.failed) == ("succeeded", 1, 2)
    reasons = [r[-1] for r in read_csv(Path(result.failure_path))[1:]]
    assert reasons == [
        "product report line 4: 购买数量: '²' is not a whole number from 1 to 999,999,999",
        "总金额: '1e999999' is not an amount",
    ]
