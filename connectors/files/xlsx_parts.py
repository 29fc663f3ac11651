"""The parts of an .xlsx other than its rows: the zip's directory, checked before anything is
inflated, the workbook's first worksheet, its date styles and its shared strings.

Python's zipfile never inflates a part past the size its directory declares (a part that
would is refused by its CRC), so checking the declared sizes bounds everything read. Every
part is parsed by expat in 64 KiB chunks with no DOCTYPE, bounded nesting and no run of
more than ``row_chars`` bytes without markup, so no single token is buffered whole.
"""

from __future__ import annotations

import posixpath
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH

from connectors.files.limits import MIB, Limits, UnreadableFile, mib

CHUNK = 1 << 16
EOCD = b"PK\x05\x06"  # end of the zip's central directory
MAX_DEPTH = 64
MAX_STYLES = 65_536  # Excel keeps at most 64,000 cell formats
ROOT_RELS = "_rels/.rels"


class _NoDoctype(Exception):
    pass


@dataclass
class Book:
    """Where the first worksheet and its shared strings are, and which styles are dates."""

    sheet: str
    strings: str | None = None
    epoch: datetime = WINDOWS_EPOCH
    dates: set[int] = field(default_factory=set)
    timedeltas: set[int] = field(default_factory=set)


def open_zip(path: Path, label: str, limits: Limits) -> zipfile.ZipFile:
    """The workbook's zip, once its directory, part count, sizes and ratios are checked."""
    _check_directory(path, label, limits)
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise broken(label, exc) from exc
    try:
        _check_parts(book.infolist(), label, limits)
    except UnreadableFile:
        book.close()
        raise
    return book


def broken(label: str, why: object) -> UnreadableFile:
    return UnreadableFile(f"{label}: not a readable .xlsx workbook ({why})")


def _check_directory(path: Path, label: str, limits: Limits) -> None:
    """Read the part count and directory size from the zip's last record, before zipfile
    loads a directory entry per part."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - (1 << 16) - 22))
        tail = fh.read()
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < 22:
        raise broken(label, "the zip directory is missing")
    parts, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if parts > limits.members or directory > limits.members * 1024:
        raise UnreadableFile(
            f"{label}: the workbook has more than {limits.members:,} parts "
            f"(at most {limits.members:,}); save it again from Excel or as CSV"
        )


def _check_parts(infos: list[zipfile.ZipInfo], label: str, limits: Limits) -> None:
    if len(infos) > limits.members:
        raise UnreadableFile(f"{label}: the workbook has {len(infos):,} parts, "
                             f"more than {limits.members:,}")  # fmt: skip
    total = 0
    for info in infos:
        total += info.file_size
        packed = max(info.compress_size, 1)
        if info.file_size > MIB and info.file_size > limits.ratio * packed:
            raise UnreadableFile(
                f"{label}: part {info.filename!r} expands {info.file_size // packed:,} times "
                f"({mib(packed)} to {mib(info.file_size)}), more than the {limits.ratio} times "
                "a spreadsheet can; the file is refused as a zip bomb"
            )
    if total > limits.file_bytes:
        raise UnreadableFile(
            f"{label}: the workbook is {mib(total)} uncompressed, "
            f"more than {mib(limits.file_bytes)}; split it into smaller files or save it as CSV"
        )


@contextmanager
def part(book: zipfile.ZipFile, name: str, cap: int, label: str) -> Iterator[IO[bytes]]:
    """Open a part no larger than ``cap``; zip and XML errors become UnreadableFile."""
    try:
        info = book.getinfo(name)
    except KeyError:
        raise broken(label, f"part {name!r} is missing") from None
    if info.file_size > cap:
        raise UnreadableFile(
            f"{label}: part {name!r} is {mib(info.file_size)} uncompressed, more than the "
            f"{mib(cap)} read of it; split the file into smaller files or save it as CSV"
        )
    try:
        with book.open(info) as stream:
            yield stream
    except _NoDoctype:
        raise broken(label, f"part {name!r} declares a DOCTYPE") from None
    except expat.ExpatError as exc:
        raise broken(label, f"part {name!r}: {exc}") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise broken(label, f"part {name!r}: {exc}") from exc


def parser(
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> Any:
    """An expat parser that refuses a DOCTYPE (so no entity can be declared)."""
    xml = expat.ParserCreate()
    xml.buffer_text = True
    xml.StartDoctypeDeclHandler = _refuse_doctype
    xml.StartElementHandler = start
    if end is not None:
        xml.EndElementHandler = end
    if text is not None:
        xml.CharacterDataHandler = text
    return xml


def _refuse_doctype(*_args: object) -> None:
    raise _NoDoctype


def feed(
    stream: IO[bytes], xml: Any, label: str, limits: Limits, budget: int | None
) -> Iterator[int]:
    """Parse ``stream`` chunk by chunk, yielding the bytes read so far after each chunk.
    Refuses a run of more than ``row_chars`` bytes without a '<' (a token expat would buffer
    whole) and, with a ``budget``, reading more than it."""
    read = run = 0
    while chunk := stream.read(CHUNK):
        read += len(chunk)
        first = chunk.find(b"<")
        run = run + len(chunk) if first < 0 else len(chunk) - chunk.rfind(b"<")
        if run > limits.row_chars or (first > 0 and run + first > limits.row_chars):
            raise UnreadableFile(f"{label}: more than {mib(limits.row_chars)} of text in one "
                                 "place; a cell holds at most 32,767 characters")  # fmt: skip
        if budget is not None and read > budget:
            raise UnreadableFile(f"{label}: no header row within the first {mib(budget)} of "
                                 "the workbook's parts")  # fmt: skip
        xml.Parse(chunk, False)
        yield read
    xml.Parse(b"", True)


def local(name: str) -> str:
    return name[name.find(":") + 1 :]


class Depth:
    """Counts open elements; nesting deeper than any spreadsheet's is refused."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.depth = 0

    def down(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise broken(self.label, f"elements nested more than {MAX_DEPTH} deep")

    def up(self) -> None:
        self.depth -= 1


def _scan(
    book: zipfile.ZipFile, name: str, label: str, limits: Limits, start: Callable,
    end: Callable[[str], None] | None = None,
) -> None:  # fmt: skip
    """Stream a small part, calling ``start(local name, attributes)`` (and ``end(local
    name)``) for each element."""
    depth = Depth(label)

    def on_start(tag: str, attrs: dict[str, str]) -> None:
        depth.down()
        start(local(tag), attrs)

    def on_end(tag: str) -> None:
        depth.up()
        if end is not None:
            end(local(tag))

    with part(book, name, limits.part_bytes, label) as stream:
        for _read in feed(stream, parser(on_start, on_end), label, limits, None):
            pass


def read_book(book: zipfile.ZipFile, label: str, limits: Limits) -> Book:
    """The first worksheet, the shared strings, the epoch and the date styles."""
    office = _relations(book, ROOT_RELS, label, limits).get("officeDocument", ["xl/workbook.xml"])
    workbook = office[0]
    ids: list[str] = []
    found = Book(sheet="")

    def on_workbook(tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet" and len(ids) < 256:
            ids.extend(v for k, v in attrs.items() if local(k) == "id" and ":" in k)
        elif tag == "workbookPr" and attrs.get("date1904", "").lower() in ("1", "true"):
            found.epoch = CALENDAR_MAC_1904

    _scan(book, workbook, label, limits, on_workbook)
    rels = _relations(book, _rels_of(workbook), label, limits, ids)
    sheets = [rels[i][0] for i in ids if i in rels and rels[i][1] == "worksheet"]
    if not sheets:
        raise broken(label, "it has no worksheet")
    found.sheet = sheets[0]
    found.strings = next(iter(rels.get("sharedStrings", [])), None)
    for styles in rels.get("styles", [])[:1]:
        found.dates, found.timedeltas = _date_styles(book, styles, label, limits)
    return found


def _rels_of(name: str) -> str:
    folder, base = posixpath.split(name)
    return posixpath.join(folder, "_rels", f"{base}.rels")


def _relations(
    book: zipfile.ZipFile, name: str, label: str, limits: Limits, ids: list[str] | None = None
) -> dict[str, Any]:
    """Targets by relationship type (shared strings, styles, the workbook) and, for ``ids``,
    (target, type) by id. A part with no relationships file has none."""
    folder = posixpath.dirname(posixpath.dirname(name))
    wanted = set(ids or ())
    out: dict[str, Any] = {}

    def on_start(tag: str, attrs: dict[str, str]) -> None:
        if tag != "Relationship":
            return
        kind = attrs.get("Type", "").rpartition("/")[2]
        target = attrs.get("Target", "")
        target = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        target = posixpath.normpath(target)
        if attrs.get("Id") in wanted:
            out[attrs["Id"]] = (target, kind)
        elif kind in ("officeDocument", "sharedStrings", "styles"):
            out.setdefault(kind, []).append(target)

    if name in book.namelist():
        _scan(book, name, label, limits, on_start)
    return out


def _date_styles(
    book: zipfile.ZipFile, name: str, label: str, limits: Limits
) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles whose number format is a date, and a duration."""
    custom: dict[int, str] = {}
    dates: set[int] = set()
    timedeltas: set[int] = set()
    xfs = [0, 0]  # [inside cellXfs, cell styles seen]

    def on_start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "numFmt" and len(custom) < MAX_STYLES:
            custom[_int(attrs.get("numFmtId"))] = attrs.get("formatCode", "")[:255]
        elif tag == "cellXfs":
            xfs[0] = 1
        elif tag == "xf" and xfs[0] and xfs[1] < MAX_STYLES:
            number = _int(attrs.get("numFmtId"))
            code = custom.get(number) or builtin_format_code(number)
            if is_date_format(code):
                dates.add(xfs[1])
            if is_timedelta_format(code):
                timedeltas.add(xfs[1])
            xfs[1] += 1

    def on_end(tag: str) -> None:
        if tag == "cellXfs":
            xfs[0] = 0

    _scan(book, name, label, limits, on_start, on_end)
    return dates, timedeltas


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


class SharedStrings:
    """The workbook's shared strings, parsed only as far as the cells read refer to them
    (in a web request, within ``budget`` bytes), and kept as UTF-8 in one buffer plus 4 bytes
    of offset each: never more memory than the part's size (``strings_bytes``) and 4 bytes a
    string."""

    def __init__(self, book: zipfile.ZipFile, name: str, label: str, limits: Limits,
                 budget: int | None) -> None:  # fmt: skip
        self.label = label
        self.limits = limits
        self.data = bytearray()
        self.ends = array("I")
        self._pieces: list[str] | None = None  # the text of the <si> being read
        self._keep = False  # inside its <t> (not a phonetic one)
        self._size = 0
        self._phonetic = False
        self._depth = Depth(label)
        self._feeding = self._feed(book, name, budget)

    def get(self, index: int) -> str:
        while index >= len(self.ends):
            if next(self._feeding, None) is None:
                raise UnreadableFile(f"{self.label}: a cell refers to shared string {index}, "
                                     "which the workbook does not have")  # fmt: skip
        if index < 0:
            raise broken(self.label, f"shared string {index}")
        start = self.ends[index - 1] if index else 0
        return self.data[start : self.ends[index]].decode()

    def close(self) -> None:
        self._feeding.close()

    def _feed(self, book: zipfile.ZipFile, name: str, budget: int | None) -> Iterator[int]:
        xml = parser(self._start, self._end, self._text)
        with part(book, name, self.limits.strings_bytes, self.label) as stream:
            yield from feed(stream, xml, self.label, self.limits, budget)

    def _start(self, name: str, _attrs: dict[str, str]) -> None:
        self._depth.down()
        tag = local(name)
        if tag == "si":
            self._pieces, self._size = [], 0
        elif tag == "rPh":
            self._phonetic = True
        elif tag == "t":
            self._keep = self._pieces is not None and not self._phonetic

    def _text(self, data: str) -> None:
        if self._keep and self._pieces is not None:
            self._size += len(data)
            if self._size > self.limits.cell_chars:
                raise UnreadableFile(f"{self.label}: a text of more than "
                                     f"{self.limits.cell_chars:,} characters")  # fmt: skip
            self._pieces.append(data)

    def _end(self, name: str) -> None:
        self._depth.up()
        tag = local(name)
        if tag == "si" and self._pieces is not None:
            self.data += "".join(self._pieces).encode()
            self.ends.append(len(self.data))
            self._pieces = None
        elif tag == "rPh":
            self._phonetic = False
        elif tag == "t":
            self._keep = False
