"""Issue 22.14: a text table's separator is the one its header line uses (comma, tab or
semicolon), found from the bytes whatever the file is called."""

from __future__ import annotations

import pytest

from connectors.files.reader import open_table


@pytest.mark.parametrize(
    ("text", "headers", "row"),
    [("a\tb,c\tx\n1\t2,3\t4\n", ["a", "b,c", "x"], ["1", "2,3", "4"]),
     ('"a;b",c\n"1;2",3\n', ["a;b", "c"], ["1;2", "3"]),
     ("# exported 2024-05-01, by CRM\na;b;c\n1;2;3\n", ["a", "b", "c"], ["1", "2", "3"]),
     ("only\nvalue, with comma\n", ["only"], ["value"])],  # none in the header: comma
)  # fmt: skip
def test_separator_sniffed_from_the_header_line(tmp_path, text, headers, row):
    path = tmp_path / "export.txt"
    path.write_text(text, "utf-8")
    table = open_table(path)
    assert table.headers == headers
    assert next(iter(table.rows())).cells == row


def test_gbk_tab_separated_txt(tmp_path):
    path = tmp_path / "订单.txt"
    path.write_bytes("订单编号\t手机号\nSO-1\t13800139000\n".encode("gbk"))
    table = open_table(path)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "gb18030", "\t")
    assert table.headers == ["订单编号", "手机号"]
    assert next(iter(table.rows())).cells == ["SO-1", "13800139000"]
