"""Shared file layer for spreadsheet imports: reading .xlsx/.csv and writing failure files."""

from connectors.files.reader import SourceRow, Table, UnreadableFile, open_table
from connectors.files.writer import FailureWriter, neutralise, write_failures, write_template

__all__ = [
    "FailureWriter",
    "SourceRow",
    "Table",
    "UnreadableFile",
    "neutralise",
    "open_table",
    "write_failures",
    "write_template",
]
