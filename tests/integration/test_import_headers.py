"""Issue 22.14: tolerant headers for every file kind (one normaliser), .txt tables with their
separator sniffed, and the number and kind of files checked at upload (UI, API and CLI)."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from connectors.customers import mapping as customers
from connectors.files.base import ImportContext
from connectors.files.headers import header_key
from connectors.sobot import mapping as sobot
from hub.extensions import db
from hub.imports import service
from hub.models import ImportRun, Order, OrderLine
from hub.services.tokens import create_token
from tests.integration.test_import_tmall import files as tmall_files
from tests.integration.test_import_tmall import order, product
from tests.support.spreadsheets import IMPORT_CONNECTORS, read_xlsx
from tests.support.ui import login, make_user

# A hand-made Sobot sheet: other case, stray and inner spaces, full-width letters, '*' here
# and there, and the usual short names and Chinese aliases.
SOBOT_HEADERS = [" order  no* ", "ＯＲＤＥＲ　ＳＯＵＲＣＥ＊", "订单状态*", "下单时间",
                 "店铺编号", "Sobot customer ID", "手机号", "商品ID*", "SKU", "商品名称", "数量",
                 "单价"]  # fmt: skip
SOBOT_ROW = ["SO-9", "Youzan", "Paid", "2022-09-14 11:03:23", "S1", "Z-1", "13800139000",
             "P-1", "P-1-R", "Oolong", "2", "10.50"]  # fmt: skip


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": list(IMPORT_CONNECTORS)}


def test_one_key_for_case_spaces_full_width_and_the_required_marker():
    same = [
        "Product SKU",
        " product  sku* ",
        "ＰＲＯＤＵＣＴ　ＳＫＵ＊",
        "PRODUCT_SKU",
        "product-sku",
    ]
    assert {header_key(h) for h in same} == {"productsku"}
    assert header_key("商品ＳＫＵ*") == header_key("商品SKU")


def test_sobot_headers_found_by_alias_and_any_spelling():
    index = sobot.header_index(SOBOT_HEADERS)
    row = sobot.parse_row(SOBOT_ROW, index)
    assert (row.order_no, row.source, row.line.sku_id, row.line.qty) == (
        "SO-9",
        "Youzan",
        "P-1-R",
        2,
    )
    assert row.buyer.identities == [("sobot_id", "Z-1"), ("mobile", "13800139000")]


def test_customer_headers_suggested_from_any_spelling():
    headers = ["ＭＯＢＩＬＥ", " E-mail* ", "Sobot customer ID", "Customer  ID", "姓名", "手机"]
    suggested = customers.suggest_mapping(headers, ImportContext())
    assert suggested == {"ＭＯＢＩＬＥ": "mobile", " E-mail* ": "email",
                         "Sobot customer ID": "identity:sobot_id", "Customer  ID": "customer_id",
                         "姓名": "name"}  # fmt: skip


def test_a_mapping_naming_a_header_by_another_spelling_is_taken():
    cols = customers.resolve_columns(["Mobile*", "Name"], {"mobile": "mobile"}, ImportContext())
    assert [(c.index, c.header, c.target) for c in cols] == [(0, "Mobile*", "mobile")]


def test_tmall_headers_with_other_spelling_imported(workspace, tmp_path):
    uploads = tmall_files(tmp_path, [order("1001")], [product("1001")], encoding="utf-8")
    orders = uploads[1][1]
    text = orders.read_text("utf-8")
    header, rest = text.split("\n", 1)
    header = header.replace("店铺Id", "店铺ID").replace("订单编号", "订单编号*")
    orders.write_text(header.replace("联系手机", " 联系 手机 ") + "\n" + rest, "utf-8")
    run = service.start(workspace.id, "tmall-orders", uploads, enqueue=False)
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 0), run.error
    assert db.session.scalar(select(Order.store_id)) == "TM-1"


@pytest.mark.parametrize("separator", ["\t", ";", ","])
def test_txt_file_taken_as_a_table_with_its_separator_sniffed(workspace, tmp_path, separator):
    path = tmp_path / "sobot-export.txt"
    cells = [*SOBOT_ROW[:9], "Oolong; 250g, tin", *SOBOT_ROW[10:]]
    quoted = [f'"{c}"' if separator in c or "," in c or ";" in c else c for c in cells]
    path.write_text(separator.join(SOBOT_HEADERS) + "\n" + separator.join(quoted) + "\n", "utf-8")
    run = service.start(workspace.id, "sobot-orders", [(path.name, path)], enqueue=False)
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 0), run.error
    assert db.session.scalar(select(OrderLine.name)) == "Oolong; 250g, tin"


# --- the number and the kind of files, checked at upload -------------------------------------


def test_upload_page_refuses_one_tmall_file_saying_which_two_it_takes(client, workspace, tmp_path):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    (_, products), (_, orders) = tmall_files(tmp_path, [order("1")], [product("1")])
    one = {"kind": "tmall-orders", "files": (io.BytesIO(orders.read_bytes()), orders.name)}
    page = client.post("/imports/new", data=one, content_type="multipart/form-data")
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert (
        "order report (ExportOrderList)" in text
        and "product report (ExportOrderDetailList)" in text
    )
    assert "You chose 1." in text
    assert client.get("/imports/settings").status_code == 302  # nothing staged: upload again
    # two order reports are not the two reports either: refused at upload too
    twice = [(io.BytesIO(orders.read_bytes()), "a.csv"), (io.BytesIO(orders.read_bytes()), "b.csv")]
    two = {"kind": "tmall-orders", "files": twice}
    page = client.post("/imports/new", data=two, content_type="multipart/form-data")
    assert page.status_code == 400 and "A Tmall import needs two files" in page.text
    pair = [(io.BytesIO(orders.read_bytes()), orders.name),
            (io.BytesIO(products.read_bytes()), products.name)]  # fmt: skip
    both = {"kind": "tmall-orders", "files": pair}
    page = client.post("/imports/new", data=both, content_type="multipart/form-data")
    assert page.status_code == 302 and page.headers["Location"].endswith("/imports/settings")


def test_upload_page_refuses_a_sobot_file_without_its_columns(client, workspace, tmp_path):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    data = {"kind": "sobot-orders", "files": (io.BytesIO(b"Name,Mobile\nA,13800139000\n"), "x.txt")}
    page = client.post("/imports/new", data=data, content_type="multipart/form-data")
    assert page.status_code == 400
    assert "The file has no “Order No” column (订单编号), which is required" in page.text
    upload_page = client.get("/imports/new").text
    assert 'accept=".xlsx,.csv,.txt"' in upload_page
    assert 'href="/imports/template/sobot-orders"' in upload_page  # the message points there
    template = client.get("/imports/template/sobot-orders")
    assert template.status_code == 200
    (tmp_path / "t.xlsx").write_bytes(template.data)
    assert read_xlsx(tmp_path / "t.xlsx")[0][:2] == ["Order No*", "Order Source*"]
    assert client.get("/imports/template/nope").status_code == 404


def test_api_and_cli_refuse_one_tmall_file_in_plain_words(client, runner, workspace, tmp_path):
    (_, _products), (_, orders) = tmall_files(tmp_path, [order("1")], [product("1")])
    auth = {"Authorization": f"Bearer {create_token(workspace.id, 'imports')[1]}"}
    data = {"kind": "tmall-orders", "file": (orders.open("rb"), orders.name)}
    response = client.post("/api/v1/imports", headers=auth, data=data,
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "validation_failed" and error["field"] == "file"
    assert error["message"].startswith("A Tmall import takes two files, chosen together: the order")
    assert "file(s)" not in error["message"] and "tmall-orders" not in error["message"]
    result = runner.invoke(args=["hub", "import", "tmall-orders", str(orders),
                                 "--workspace", "acme", "--json"])  # fmt: skip
    assert result.exit_code == 1
    assert (
        "the product report (ExportOrderDetailList)"
        in json.loads(result.output)["error"]["message"]
    )
    assert db.session.scalar(select(ImportRun)) is None  # refused before a run was recorded
