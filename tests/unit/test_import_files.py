"""The shared file layer: format and encoding from the bytes, skipped lines, failure files."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from connectors.files.reader import UnreadableFile, cell_text, open_table
from connectors.files.writer import FailureWriter, neutralise, write_template
from tests.support.spreadsheets import read_xlsx, write_csv, write_xlsx

ROWS = [[" 姓名 ", "手机号 "], ["王芳", "13800139000"], ["李雷", "13900139001"]]


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [("utf-8", False, "utf-8"), ("utf-8", True, "utf-8-sig"), ("gbk", False, "gb18030"),
     ("gb18030", False, "gb18030")],
)  # fmt: skip
def test_csv_encodings_detected_from_bytes(tmp_path, encoding, bom, expected):
    path = write_csv(tmp_path / "named-like.xlsx", ROWS, encoding=encoding, bom=bom)
    table = open_table(path)
    assert (table.format, table.encoding) == ("csv", expected)
    assert table.headers == ["姓名", "手机号"]  # trimmed, BOM gone
    assert [r.cells for r in table.rows()] == ROWS[1:]


def test_xlsx_detected_from_bytes_and_cells_as_text(tmp_path):
    rows = [["Mobile", "When", "Amount", "Blank"],
            [13800139000, datetime(2022, 9, 14, 11, 3, 23), 9.5, None]]  # fmt: skip
    table = open_table(write_xlsx(tmp_path / "named-like.csv", rows))
    assert table.format == "xlsx"
    assert [r.cells for r in table.rows()] == [["13800139000", "2022-09-14 11:03:23", "9.5", ""]]


def test_blank_and_comment_lines_skipped_with_line_numbers(tmp_path):
    rows = [["# exported by hand"], [], ["Name", "Mobile"], ["", ""], ["#note", "x"], ["A", "1"],
            [" ", " "], ["B", "2", "extra"]]  # fmt: skip
    table = open_table(write_csv(tmp_path / "c.csv", rows))
    assert table.header_line == 3
    assert [(r.line, r.cells) for r in table.rows()] == [(6, ["A", "1"]), (8, ["B", "2"])]


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "the file is empty"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "legacy .xls files are not supported"),
     (b"PK\x03\x04broken", "not a readable .xlsx workbook"),
     (b"\xff\xfe\x00\x81\x00\xff\xff", "not a text file in UTF-8 or GBK/GB18030"),
     (b"\n\n# only comments\n", "no header row found")],
)  # fmt: skip
def test_unreadable_files_refused_saying_why(tmp_path, data, message):
    path = tmp_path / "upload.csv"
    path.write_bytes(data)
    with pytest.raises(UnreadableFile, match=message) as info:
        open_table(path, "customers.csv")
    assert str(info.value).startswith("customers.csv: ")


def test_cell_text():
    assert cell_text(1.0) == "1" and cell_text(0.1) == "0.1" and cell_text(True) == "TRUE"
    assert cell_text(None) == "" and cell_text(12) == "12"


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\r=1", "\n=1", " =1+1", "  @A1", "\u3000=1",
     "\u00a0-1", "＝1+1", "＋1", "－2", "＠SUM(A1)", " ＝cmd"],
)  # fmt: skip
def test_formula_cells_are_neutralised(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["a=b", " Wang", "1-2", "", "'=1", "王芳"])
def test_other_cells_are_kept(value):
    assert neutralise(value) == value


def test_failure_file_keeps_the_input_format(tmp_path):
    writer = FailureWriter(tmp_path / "f.xlsx", ["A", "B"], "xlsx", None)
    writer.add(["=cmd|' /C calc'!A0", " ＝1+1"], "A: bad")
    assert writer.close() == tmp_path / "f.xlsx"
    assert read_xlsx(tmp_path / "f.xlsx") == [
        ["A", "B", "reason"],
        ["'=cmd|' /C calc'!A0", "' ＝1+1", "A: bad"],
    ]
    gbk = FailureWriter(tmp_path / "f.csv", ["姓名"], "csv", "gb18030")
    gbk.add(["王芳"], "手机号: 不是11位 ✓")
    gbk.close()
    assert (tmp_path / "f.csv").read_text("gb18030").splitlines()[1] == "王芳,手机号: 不是11位 ✓"
    assert FailureWriter(tmp_path / "none.csv", ["A"], "csv", "utf-8").close() is None
    assert not (tmp_path / "none.csv").exists()


def test_template_written_as_xlsx_or_csv(tmp_path):
    write_template(tmp_path / "t.xlsx", ["Order No*", "SKU*"], [["1", "a"]])
    assert read_xlsx(tmp_path / "t.xlsx") == [["Order No*", "SKU*"], ["1", "a"]]
    path = write_template(tmp_path / "t.csv", ["订单编号*"])
    assert Path(path).read_bytes().startswith(b"\xef\xbb\xbf")


def test_analytics_exports_are_neutralised_and_numbers_kept(tmp_path):
    """The notebooks' CSV exports wrote a product named '=HYPERLINK(…)' as a formula."""
    import pandas as pd

    from hub.analytics import export

    table = pd.DataFrame(
        {"product": ['=HYPERLINK("http://x")', " ＝1+1", "Tea"], "refunds": [-5, 0, 3]},
        index=pd.Index(["@A1", "b", "c"], name="sku"),
    )
    listed = export({"top": table}, str(tmp_path))
    assert listed.to_dict("records") == [
        {"table": "top", "rows": 3, "file": str(tmp_path / "top.csv")}
    ]
    rows = list(csv.reader((tmp_path / "top.csv").open(encoding="utf-8")))
    assert rows == [["sku", "product", "refunds"], ["'@A1", "'=HYPERLINK(\"http://x\")", "-5"],
                    ["b", "' ＝1+1", "0"], ["c", "Tea", "3"]]  # fmt: skip
    assert table["product"].iloc[0].startswith("=")  # the caller's table is not changed
