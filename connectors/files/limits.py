"""What reading one uploaded spreadsheet may cost at most (issue 20: spreadsheet bombs).

Every limit is checked while the file streams, before what it bounds is held in memory, and a
file over a limit is refused with ``UnreadableFile`` naming the file and the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.errors import ValidationFailed

MIB = 1 << 20


class UnreadableFile(ValidationFailed):
    """The file cannot be read as a spreadsheet, or is over a limit; the message says why."""


@dataclass(frozen=True, slots=True)
class Limits:
    rows: int = 1_000_000  # data rows in one file; each import kind sets its own
    columns: int = 1_000  # cells with a value in one row, fields on one CSV line
    row_chars: int = MIB  # text of one row: an .xlsx row's cells, a CSV line
    cell_chars: int = 32_767  # text of one .xlsx cell (Excel's own limit)
    file_bytes: int = 512 * MIB  # a CSV file; an .xlsx's parts added up, uncompressed; the
    # characters of all the rows of a file (a shared string can repeat on every row)
    strings_bytes: int = 64 * MIB  # an .xlsx's shared strings part, uncompressed
    part_bytes: int = 16 * MIB  # any other .xlsx part read (workbook, relationships, styles)
    ratio: int = 100  # uncompressed / compressed size of an .xlsx part larger than 1 MiB
    members: int = 1_000  # parts of an .xlsx
    header_rows: int = 100  # rows looked at for the header
    preview_bytes: int = 16 * MIB  # of a part or a CSV read to find the header (web requests)
    held_chars: int = 32 * MIB  # text of the rows an import keeps in memory (Sobot, Tmall products)


def mib(size: int) -> str:
    """A size for a message: '464.0 MiB', '900 KiB'."""
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size // 1024} KiB"
