"""Spreadsheet bombs against the file layer (issue 20, point 10): each is refused with an error
naming the file and the limit, or read correctly, quickly and within bounded memory (the peak
of Python's allocations, traced). The same bombs through a web request and the import job, in
processes whose RSS is measured: tests/integration/test_import_bombs.py."""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable
from itertools import chain

import pytest

import connectors.files.xlsx  # noqa: F401 (loaded lazily; imported here, before any tracing)
from connectors.files.limits import MIB, Limits
from connectors.files.reader import UnreadableFile, open_table
from tests.support import bombs
from tests.support.spreadsheets import write_csv

SECONDS = 3
TRACED_MB = 8


def traced(action: Callable[[], object]) -> tuple[object, float, float]:
    """(what ``action`` returned or raised, seconds, peak MB of Python allocations)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result: object = action()
    except UnreadableFile as exc:
        result = exc
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return result, seconds, peak


def read_all(path, limits: Limits = Limits()) -> list[list[str]]:
    table = open_table(path, path.name, limits)
    return [table.headers] + [r.cells for r in table.rows()]


def refused(path, match: str, limits: Limits = Limits(), *, opening: bool = True) -> None:
    """Refused quickly within bounded memory: when opened (the web request's preview) if
    ``opening``, else only when the rows are read (the import job)."""
    if not opening:
        assert open_table(path, path.name, limits).headers[:2] == bombs.HEADER
    result, seconds, peak = traced(lambda: read_all(path, limits))
    assert isinstance(result, UnreadableFile), result
    assert str(result).startswith(f"{path.name}: ") and match in str(result)
    assert seconds < SECONDS and peak < TRACED_MB, (seconds, peak)


def test_shared_strings_bomb_refused_before_any_string_is_read(tmp_path):
    path = bombs.shared_strings_bomb(tmp_path / "strings.xlsx")
    assert path.stat().st_size < 3 * bombs.MB
    refused(path, "to 441.8 MiB), more than the 100 times a spreadsheet can; the file is "
            "refused as a zip bomb")  # fmt: skip


def test_dimension_bomb_is_ignored(tmp_path):
    path = bombs.dimension_bomb(tmp_path / "dimension.xlsx")
    assert path.stat().st_size < 2_000
    rows, seconds, peak = traced(lambda: read_all(path))
    assert rows == [bombs.HEADER, *bombs.ROWS]
    assert seconds < SECONDS and peak < TRACED_MB


def test_huge_ratio_part_and_too_many_parts_refused(tmp_path):
    refused(bombs.ratio_bomb(tmp_path / "ratio.xlsx"), "part 'xl/media/image1.png' expands")
    refused(bombs.many_parts_bomb(tmp_path / "parts.xlsx"), "more than 1,000 parts")


def test_part_inflating_past_its_declared_size_refused(tmp_path):
    refused(bombs.lying_bomb(tmp_path / "lying.xlsx"), "Bad CRC-32")


def test_row_beyond_the_column_limit_refused(tmp_path):
    refused(bombs.wide_row_bomb(tmp_path / "header.xlsx", at_row=1), "row 1 has a value in "
            "column 16,384, beyond the 1,000 columns a file may have")  # fmt: skip
    refused(bombs.wide_row_bomb(tmp_path / "later.xlsx"), "row 3 has a value in column 16,384")
    cells = "".join(f'<c r="A1"><v>{i}</v></c>' for i in range(16_385))
    xml = bombs.sheet(f"<row>{cells}</row>")
    path = bombs.workbook(tmp_path / "cells.xlsx", {"xl/worksheets/sheet1.xml": xml})
    refused(path, "row 1 has more than 16,384 cells")


def test_line_of_commas_refused(tmp_path):
    refused(bombs.comma_line(tmp_path / "header.csv"), "line 1 is longer than 1,048,576 characters")
    path = bombs.comma_line(tmp_path / "later.csv", at_line=4)
    refused(path, "line 4 is longer than 1,048,576 characters", opening=False)
    fields = write_csv(tmp_path / "fields.csv", [bombs.HEADER, [""] * 1_001])
    refused(fields, "line 2 has 1,001 fields, more than the 1,000 columns", opening=False)


def test_rows_stop_as_soon_as_the_row_limit_is_exceeded(tmp_path):
    path = bombs.comma_line(tmp_path / "rows.csv", at_line=4)  # the bomb comes after 2 rows
    refused(path, "more than 1 data rows; at most 1 rows per file", Limits(rows=1), opening=False)


@pytest.mark.parametrize(
    ("cell", "match"),
    [("A" * 32_768, "a cell holds more than 32,767 characters"),
     (f'{"A" * 30_000}</t></is></c>' + '<c t="inlineStr"><is><t>' + "B" * 30_000,
      "row 2 holds more than 50,000 characters")],
)  # fmt: skip
def test_cell_and_row_text_bounded(tmp_path, cell, match):
    rows = bombs.table_rows([bombs.HEADER, [cell]])
    path = bombs.workbook(tmp_path / "long.xlsx", {"xl/worksheets/sheet1.xml": bombs.sheet(rows)})
    refused(path, match, Limits(row_chars=50_000))


@pytest.mark.parametrize(
    ("xml", "match"),
    [('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
      '<worksheet><sheetData><row><c t="inlineStr"><is><t>&b;</t></is></c></row></sheetData>'
      "</worksheet>", "declares a DOCTYPE"),
     ("<worksheet>" + "<x>" * 100 + "</x>" * 100 + "</worksheet>", "nested more than 64 deep"),
     (f'<worksheet><sheetData><row spans="{os.urandom(MIB).hex()}"/></sheetData></worksheet>',
      "more than 1.0 MiB of text in one place")],
)  # fmt: skip
def test_hostile_xml_refused(tmp_path, xml, match):
    path = bombs.workbook(tmp_path / "x.xlsx", {"xl/worksheets/sheet1.xml": xml})
    refused(path, match)


def test_size_caps_named(tmp_path):
    strings = bombs.shared_strings_bomb(tmp_path / "s.xlsx", expanded=3 * bombs.MB)
    refused(strings, "part 'xl/sharedStrings.xml' is 1.9 MiB uncompressed, more than the 1.0 MiB",
            Limits(strings_bytes=MIB, ratio=10_000))  # fmt: skip
    refused(strings, "the workbook is 1.9 MiB uncompressed, more than 1.0 MiB",
            Limits(file_bytes=MIB, ratio=10_000))  # fmt: skip
    big = bombs.comma_line(tmp_path / "big.csv", size=2 * bombs.MB, at_line=4)
    refused(big, "the file is 1.9 MiB, more than 1.0 MiB", Limits(file_bytes=MIB))


def test_opening_reads_only_the_start_of_a_large_workbook(tmp_path):
    """The header's shared strings come first; the 40 MB after them are not read (nor kept)
    to open the file, as a web request does. The import job reads them all, compactly."""
    head = f'<sst xmlns="{bombs.MAIN}"><si><t>Name</t></si><si><t>Mobile</t></si>'.encode()
    noise = (b"<si><t>%s</t></si>" % os.urandom(3000).hex().encode() for _ in range(6_700))
    header = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    last = '<row r="2"><c r="A2" t="s"><v>6701</v></c><c r="B2" t="s"><v>1</v></c></row>'
    path = bombs.workbook(tmp_path / "big.xlsx", {
        "xl/worksheets/sheet1.xml": bombs.sheet(header + last),
        "xl/sharedStrings.xml": chain([head], noise, [b"</sst>"])})  # fmt: skip
    table, seconds, peak = traced(lambda: open_table(path, path.name))
    assert table.headers == bombs.HEADER and peak < 2 and seconds < 1, (seconds, peak)
    rows, seconds, peak = traced(lambda: [r.cells for r in table.rows()])
    assert len(rows[0][0]) == 6000 and rows[0][1] == "Mobile"
    assert 40 < peak < 2 * 40.2 + TRACED_MB, peak  # the part's 40.2 MB, once (and a copy)


def test_quoted_fields_spanning_lines_are_bounded_as_one_row(tmp_path):
    """Each line is short, but quotes opened at the end of each line chain them into one
    record of millions of fields, which the csv module builds whole."""
    chained = 'x",' + "c," * 400_000 + '"'
    path = tmp_path / "chained.csv"
    path.write_text('Name,Mobile\na,"\n' + "\n".join([chained] * 12) + '\nx"\n')
    refused(path, "line 4: a row (its quoted fields spanning lines) is longer than 1,048,576 "
            "characters", opening=False)  # fmt: skip


def test_text_an_import_keeps_in_memory_is_bounded(tmp_path):
    """A 30,000-character shared string on every row: a tiny workbook, 120 million characters
    to an import that keeps its rows (Sobot, the Tmall product report)."""
    head = f'<sst xmlns="{bombs.MAIN}"><si><t>Name</t></si><si><t>Mobile</t></si>'
    strings = head + f"<si><t>{'A' * 30_000}</t></si></sst>"
    long = '<c t="s"><v>2</v></c><c t="s"><v>2</v></c>'
    rows = '<row r="1"><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row>' + "".join(
        f'<row r="{n}">{long}</row>' for n in range(2, 2_002)
    )
    path = bombs.workbook(tmp_path / "held.xlsx", {"xl/worksheets/sheet1.xml": bombs.sheet(rows),
                                                   "xl/sharedStrings.xml": strings})  # fmt: skip
    assert path.stat().st_size < 100_000
    table = open_table(path, path.name)
    result, seconds, peak = traced(lambda: sum(1 for _ in table.held_rows()))
    assert isinstance(result, UnreadableFile) and str(result) == (
        "held.xlsx: row 561: the rows hold more than 33,554,432 characters of text, more than "
        "one import keeps in memory; split the file"
    )
    assert seconds < SECONDS and peak < TRACED_MB, (seconds, peak)
    assert sum(1 for _ in table.rows()) == 2_000  # streamed, the same rows are taken


def test_text_of_a_whole_file_is_bounded(tmp_path):
    """A 4 KB workbook repeating one long shared string reads as 108 million characters: the
    rows of one file hold at most ``file_bytes`` characters, as a CSV of that size could."""
    path = bombs.amplified(tmp_path / "amplified.xlsx")
    assert path.stat().st_size < 10_000
    table = open_table(path, path.name, Limits(file_bytes=10 * MIB))
    result, seconds, peak = traced(lambda: sum(1 for _ in table.rows()))
    assert str(result) == ("amplified.xlsx: row 13: the rows hold more than 10,485,760 "
                           "characters of text; split the file")  # fmt: skip
    assert seconds < SECONDS and peak < TRACED_MB, (seconds, peak)
