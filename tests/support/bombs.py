"""Spreadsheet bombs (issue 20), built by the tests that use them: small on disk, huge (or
endless) to a reader that trusts them. Each writes a minimal but valid .xlsx around its trap."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

MB = 1_000_000
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
HEADER = ["Name", "Mobile"]
ROWS = [["Wang Fang", "13800139000"], ["Li Lei", "13900139001"]]

SHEET_ML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_ML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_ML}.worksheet+xml"/>'
    "</Types>"
)
STRINGS_TYPE = (
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHEET_ML}.sharedStrings+xml"/>'
)
STRINGS_REL = f'<Relationship Id="rId2" Target="sharedStrings.xml" Type="{REL}/sharedStrings"/>'
ROOT_RELS = (
    f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Target="xl/workbook.xml" '
    f'Type="{REL}/officeDocument"/></Relationships>'
)
WORKBOOK = (
    f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{REL}/worksheet"/>'
    "</Relationships>"
)


def inline_row(number: int, values: list[str], first_column: int = 1) -> str:
    cells = "".join(
        f'<c r="{column_name(first_column + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def column_name(number: int) -> str:
    name = ""
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def sheet(rows: str, dimension: str = "A1:B3") -> str:
    return (f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/>'
            f"<sheetData>{rows}</sheetData></worksheet>")  # fmt: skip


def table_rows(rows: list[list[str]] | None = None) -> str:
    rows = [HEADER, *ROWS] if rows is None else rows
    return "".join(inline_row(n, r) for n, r in enumerate(rows, start=1))


def workbook(path: Path, parts: dict[str, str | Iterable[bytes]], level: int = 1) -> Path:
    """An .xlsx of the minimal parts plus ``parts`` (text, or chunks streamed in), as Excel
    and openpyxl read it."""
    types, rels = CONTENT_TYPES, WORKBOOK_RELS
    if "xl/sharedStrings.xml" in parts:
        types = types.replace("</Types>", STRINGS_TYPE + "</Types>")
        rels = rels.replace("</Relationships>", STRINGS_REL + "</Relationships>")
    base: dict[str, str | Iterable[bytes]] = {
        "[Content_Types].xml": types, "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK, "xl/_rels/workbook.xml.rels": rels,
        "xl/worksheets/sheet1.xml": sheet(table_rows()),
    }  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as book:
        for name, body in {**base, **parts}.items():
            if isinstance(body, str):
                book.writestr(name, body)
                continue
            with book.open(name, "w") as out:
                for chunk in body:
                    out.write(chunk)
    return path


def repeated(chunk: bytes, total: int, head: bytes = b"", tail: bytes = b"") -> Iterator[bytes]:
    yield head
    for _ in range(total // len(chunk)):
        yield chunk
    yield tail


def shared_strings_bomb(path: Path, expanded: int = 464 * MB) -> Path:
    """The issue's bomb: the header is two shared strings, followed by ``expanded`` bytes of
    one 1,000-character string over and over (2.7 MB on disk for 464 MB)."""
    si = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    head = f'<sst xmlns="{MAIN}"><si><t>Name</t></si><si><t>Mobile</t></si>'.encode()
    header = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    rows = header + "".join(inline_row(n, r) for n, r in enumerate(ROWS, start=2))
    strings = repeated(si * 1000, expanded, head, b"</sst>")
    return workbook(
        path, {"xl/worksheets/sheet1.xml": sheet(rows), "xl/sharedStrings.xml": strings}
    )


def dimension_bomb(path: Path) -> Path:
    """About 1.5 KB declaring A1:XFD1048576 (every cell of a sheet) around a header and two
    rows, in its dimension and with an empty cell at XFD1048576: a reader that sizes the sheet
    by them (openpyxl fills the missing rows and cells) walks 17 billion cells."""
    last = '<row r="1048576"><c r="XFD1048576"/></row>'
    xml = sheet(table_rows() + last, dimension="A1:XFD1048576")
    return workbook(path, {"xl/worksheets/sheet1.xml": xml}, level=9)


def ratio_bomb(path: Path, expanded: int = 200 * MB) -> Path:
    """A valid workbook with a 'picture' of zeros expanding about 1,000 times."""
    return workbook(path, {"xl/media/image1.png": repeated(b"\0" * MB, expanded)}, level=9)


def wide_row_bomb(path: Path, at_row: int = 3) -> Path:
    """A value in column XFD (16,384) on row ``at_row``: 16,384 cells to a padding reader."""
    rows = [HEADER, *ROWS]
    xml = table_rows(rows[: at_row - 1]) + inline_row(at_row, ["far"], first_column=16_384)
    return workbook(path, {"xl/worksheets/sheet1.xml": sheet(xml, "A1:XFD3")})


def many_parts_bomb(path: Path, parts: int = 5_000) -> Path:
    return workbook(path, {f"xl/media/p{i}.bin": "" for i in range(parts)})


def lying_bomb(path: Path, expanded: int = 100 * MB, declared: int = 2_000) -> Path:
    """A sheet whose directory says ``declared`` bytes but inflates to ``expanded``."""
    rows = table_rows().encode()
    body = repeated(b"<row/>" * 10_000, expanded, f'<worksheet xmlns="{MAIN}"><sheetData>'.encode()
                    + rows, b"</sheetData></worksheet>")  # fmt: skip
    workbook(path, {"xl/worksheets/sheet1.xml": body}, level=9)
    return _declare_size(path, "xl/worksheets/sheet1.xml", declared)


def _declare_size(path: Path, name: str, size: int) -> Path:
    """Rewrite a part's uncompressed size in its local header and its directory entry."""
    with zipfile.ZipFile(path) as book:
        info = book.getinfo(name)
    data = bytearray(path.read_bytes())
    data[info.header_offset + 22 : info.header_offset + 26] = struct.pack("<I", size)
    entry = data.rfind(b"PK\x01\x02" + data[info.header_offset + 4 : info.header_offset + 6])
    while data[entry + 46 : entry + 46 + len(name)] != name.encode():
        entry = data.find(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = struct.pack("<I", size)
    path.write_bytes(bytes(data))
    return path


def comma_line(path: Path, size: int = 60 * MB, at_line: int = 1) -> Path:
    """The issue's CSV: a line of ``size`` commas (line 1, or after the header and rows)."""
    lines = [",".join(r) for r in [HEADER, *ROWS]][: at_line - 1]
    with path.open("wb") as out:
        out.write("".join(line + "\n" for line in lines).encode())
        for chunk in repeated(b"," * MB, size):
            out.write(chunk)
        out.write(b"\n")
    return path


def amplified(path: Path, rows: int = 120, columns: int = 30, length: int = 30_000) -> Path:
    """A valid customer file of ``rows`` customers whose ``columns`` extra cells all refer to
    one shared string of ``length`` characters: about 90 KB on disk, 108 million characters
    to read (below every per-row limit), which a reader must not hold at once."""
    extra = [f"Note {i}" for i in range(1, columns + 1)]
    texts = [*HEADER, *extra, "A" * length]
    strings = f'<sst xmlns="{MAIN}">' + "".join(f"<si><t>{t}</t></si>" for t in texts) + "</sst>"
    long = f'<c t="s"><v>{len(texts) - 1}</v></c>' * columns
    header = "".join(f'<c t="s"><v>{i}</v></c>' for i in range(len(texts) - 1))
    body = "".join(
        f'<row r="{n}"><c t="inlineStr"><is><t>Customer {n}</t></is></c>'
        f'<c t="inlineStr"><is><t>138{n:08d}</t></is></c>{long}</row>'
        for n in range(2, rows + 2)
    )
    xml = sheet(f'<row r="1">{header}</row>{body}', dimension="A1:AF121")
    return workbook(path, {"xl/worksheets/sheet1.xml": xml, "xl/sharedStrings.xml": strings})
