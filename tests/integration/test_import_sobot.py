"""Sobot bulk order import (S2-S6, X1, X5) end to end."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.sobot.template import template_headers
from hub.core.errors import ValidationFailed
from hub.extensions import db
from hub.imports import service
from hub.models import Customer, Event, Identity, ImportRun, Order, OrderLine, Product
from tests.support.spreadsheets import IMPORT_CONNECTORS, read_csv, write_csv, write_xlsx

CN = ["订单编号*", "订单来源*", "订单状态*", "下单时间*", "店铺编号", "店铺ID", "买家智齿客户ID",
      "买家手机号", "买家微信unionid", "买家昵称", "商品ID*", "商品SKU*", "商品名称", "购买数量*",
      "商品单价*", "商品总价", "订单金额", "实付金额"]  # fmt: skip


def row(order="SO-1", source="Youzan", status="Paid", time="2022-09-14 11:03:23", store="S1",
        store_id="", cid="", mobile="13800139000", union="", nick="", pid="P-1", sku="P-1-R",
        name="Oolong", qty="2", price="10.50", total="", amount="", paid=""):  # fmt: skip
    return [order, source, status, time, store, store_id, cid, mobile, union, nick, pid, sku,
            name, qty, price, total, amount, paid]  # fmt: skip


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": list(IMPORT_CONNECTORS)}


def run(ws, path: Path, **kw) -> ImportRun:
    return service.start(ws.id, "sobot-orders", [(path.name, path)], enqueue=False, **kw)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_s2_template_marks_required_columns_and_english_headers_work(workspace, tmp_path):
    headers = template_headers()
    assert "Order No*" in headers and "Product Name" in headers
    path = write_xlsx(tmp_path / "o.xlsx", [headers, row()])
    result = run(workspace, path)
    assert (result.status, result.created, result.failed) == ("succeeded", 1, 0)


def test_s2_missing_required_column_is_refused_naming_it(workspace, tmp_path):
    path = write_csv(tmp_path / "o.csv", [CN[:10] + CN[11:], row()[:10] + row()[11:]])
    with pytest.raises(
        ValidationFailed, match=r"The file has no “Product ID” column \(商品ID\), which is required"
    ):
        run(workspace, path)


def test_s2_more_than_5000_rows_refused_before_anything_is_written(workspace, tmp_path):
    rows = [CN] + [row(order=f"SO-{i}") for i in range(5001)]
    path = write_csv(tmp_path / "o.csv", rows)
    with pytest.raises(ValidationFailed, match="more than 5000 data rows; at most 5000"):
        run(workspace, path)
    assert count(Order) == 0 and count(Customer) == 0
    assert db.session.scalar(select(ImportRun.status)) == "failed"


def test_s3_fixed_lists_statuses_and_time_format(workspace, tmp_path):
    path = write_csv(
        tmp_path / "o.csv",
        [
            CN,
            row(order="A", source="有赞", status="已付款"),
            row(order="B", source="Brand's own mall", status="Signed for", mobile="13900139001"),
            row(order="C", source="Pinduoduo", mobile="13900139002"),
            row(order="D", status="Other", mobile="13900139003"),
            row(order="E", time="2022/09/14 11:03", mobile="13900139004"),
            row(order="F", status="Deal Closed", mobile="13900139005"),
        ],
    )
    result = run(workspace, path)
    orders = {o.external_id: o for o in db.session.scalars(select(Order))}
    assert set(orders) == {"A", "B"}  # F: closed when first seen is not stored (Y7)
    assert orders["A"].status == "paid" and orders["A"].sales_channel == "youzan"  # the key (22.5)
    assert orders["B"].status == "completed" and orders["B"].platform_status == "Signed for"
    assert orders["A"].ordered_at.isoformat() == "2022-09-14T03:03:23+00:00"
    reasons = {r[0]: r[-1] for r in read_csv(Path(result.failure_path))[1:]}
    assert reasons["C"].startswith(
        "Order Source: 'Pinduoduo' is not a source Sobot takes; use one of Youzan, Weimob"
    )
    assert reasons["D"] == "Order Status: 'Other' cannot be imported; give the order's real status"
    assert reasons["E"] == "Order Time: '2022/09/14 11:03' is not a time like '2022-09-14 11:03:23'"
    assert (result.created, result.failed, result.skipped) == (2, 3, 1)


def test_s4_same_order_and_sku_updates_line_new_product_merges(workspace, tmp_path):
    first = write_csv(
        tmp_path / "1.csv", [CN, row(qty="1"), row(pid="P-2", sku="P-2-S", price="5")]
    )
    run(workspace, first)
    second = write_csv(
        tmp_path / "2.csv", [CN, row(qty="3"), row(pid="P-3", sku="P-3-S", price="7")]
    )
    result = run(workspace, second)
    assert result.updated == 1 and count(Order) == 1
    lines = {ln.sku_id: ln for ln in db.session.scalars(select(OrderLine))}
    assert set(lines) == {"P-1-R", "P-2-S", "P-3-S"}
    assert lines["P-1-R"].qty == 3
    order = db.session.scalar(select(Order))
    assert order.amount_total == Decimal("31.50") + Decimal("10.00") + Decimal("14.00")


def test_s5_store_and_buyer_rules_and_priority(workspace, tmp_path):
    known = Customer(workspace_id=workspace.id, name="Known")
    db.session.add(known)
    db.session.flush()
    db.session.add(
        Identity(workspace_id=workspace.id, customer_id=known.id, type="sobot_id", value="Z-1")
    )
    db.session.commit()
    path = write_csv(
        tmp_path / "o.csv",
        [
            CN,
            row(order="A", store="", store_id=""),
            row(order="B", mobile=""),
            row(order="C", cid="Z-1", mobile="13900139009"),
            row(order="D", mobile="", nick="Tea fan"),
            row(order="E", mobile="", nick="Tea fan"),
            row(order="F", mobile="12345"),
        ],
    )
    result = run(workspace, path)
    assert result.failed == 3 and result.created == 3
    orders = {o.external_id: o for o in db.session.scalars(select(Order))}
    assert orders["C"].customer_id == known.id
    assert orders["D"].customer_id != orders["E"].customer_id  # nickname alone: new customer
    assert db.session.get(Customer, orders["D"].customer_id).name == "Tea fan"
    reasons = {r[0]: r[-1] for r in read_csv(Path(result.failure_path))[1:]}
    assert reasons["A"] == "Store No and Store ID: both blank; fill in at least one of them"
    assert reasons["B"].startswith(
        "Buyer Sobot Customer ID, Buyer Mobile, Buyer WeChat Unionid and Buyer Nickname: all blank"
    )
    assert reasons["F"].startswith("Buyer Mobile: mobile '12345' is not 11 digits")


def test_s6_products_and_customers_created_from_rows(workspace, tmp_path):
    path = write_csv(
        tmp_path / "o.csv",
        [
            CN,
            row(name="Oolong 250g", price="10.50"),
            row(order="SO-2", pid="P-1", sku="P-1-R", price="11", name=""),
        ],
    )
    run(workspace, path)
    product = db.session.scalar(select(Product))
    assert (product.external_id, product.name, product.price) == (
        "P-1",
        "Oolong 250g",
        Decimal("11.00"),
    )
    # purchase events (paid orders) and the buyer's first purchase
    assert count(Customer) == 1 and count(Event) == 3


def test_bad_rows_fail_alone_and_leave_nothing_behind(workspace, tmp_path):
    path = write_csv(
        tmp_path / "o.csv",
        [
            CN,
            row(order="GOOD", pid="P-OK"),
            row(order="BAD1", qty="0", pid="P-BAD1"),
            row(order="BAD2", price="abc", pid="P-BAD2"),
            row(order="BAD3", pid="", sku="X"),
            row(order="GOOD", pid="P-OK2", sku="S2", status="Shipped"),  # disagrees with its order
        ],
        encoding="gbk",
    )
    result = run(workspace, path)
    assert (result.created, result.failed) == (1, 4)
    assert {p.external_id for p in db.session.scalars(select(Product))} == {"P-OK"}
    lines = [r for r in path.read_text("gbk").splitlines()]
    failed = Path(result.failure_path).read_text("gb18030").splitlines()
    assert failed[0].endswith(",reason") and len(failed) == 5
    assert [f.split(",")[0] for f in failed[1:]] == ["BAD1", "BAD2", "BAD3", "GOOD"]
    assert "Quantity" in failed[1] and "Unit Price" in failed[2] and "Product ID" in failed[3]
    assert "Order Status: differs from line 2" in failed[4]
    assert lines[1].split(",")[0] == "GOOD"


def test_x1_reimport_is_a_no_op_and_x5_dry_run_writes_nothing(workspace, tmp_path):
    path = write_csv(tmp_path / "o.csv", [CN, row(), row(pid="P-2", sku="S-2")], bom=True)
    dry = run(workspace, path, dry_run=True)
    assert dry.created == 1 and count(Order) == 0 and count(Product) == 0
    run(workspace, path)
    snapshot = (count(Order), count(OrderLine), count(Event), count(Customer), count(Product))
    again = run(workspace, path)
    assert (again.created, again.updated, again.skipped) == (0, 0, 1)
    assert (count(Order), count(OrderLine), count(Event), count(Customer),
            count(Product)) == snapshot  # fmt: skip


def test_bad_numbers_fail_their_row_not_the_import(workspace, tmp_path):
    """'²' is a digit to str.isdigit() but not to int(): it failed the whole import with a
    raw ValueError (issue 20). Each bad value now fails its row with a plain reason."""
    path = write_csv(tmp_path / "o.csv", [
        CN,
        row(order="A", qty="²"),
        row(order="B", qty="99999999999", mobile="13900139001"),
        row(order="C", price="1e999999", mobile="13900139002"),
        row(order="D", time="0001-01-01 00:00:00", mobile="13900139003"),
        row(order="E", mobile="1３９００１３９００４", qty="２", price="１０．５０"),
    ])  # fmt: skip
    result = run(workspace, path)
    assert (result.status, result.created, result.failed) == ("succeeded", 1, 4)
    reasons = {r[0]: r[-1] for r in read_csv(Path(result.failure_path))[1:]}
    assert reasons == {
        "A": "Quantity: '²' is not a whole number from 1 to 999,999,999",
        "B": "Quantity: '99999999999' is not a whole number from 1 to 999,999,999",
        "C": "Unit Price: '1e999999' is not an amount",
        "D": "Order Time: '0001-01-01 00:00:00' is not a time between 1900 and 9998",
    }
    line = db.session.scalar(select(OrderLine))
    assert (line.qty, line.unit_price, line.total) == (2, Decimal("10.50"), Decimal("21.00"))
    assert db.session.scalar(select(Customer.mobile)) == "13900139004"
