"""Cells a spreadsheet would run as a formula (CSV/formula injection), for every .csv and
.xlsx the hub writes: failure files, templates, analytics exports."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "＝", "＋", "－", "＠")  # ASCII and full-width
BREAK_STARTS = ("\t", "\r", "\n")
LEADING_SPACES = " \u00a0\u3000"  # space, no-break space, ideographic space


def neutralise(value: str) -> str:
    """Prefix with a quote, so it stays text, a cell that starts with = + - @ (or their
    full-width forms), also after leading spaces, or with a tab or a line break."""
    if value.startswith(BREAK_STARTS) or value.lstrip(LEADING_SPACES).startswith(FORMULA_STARTS):
        return "'" + value
    return value
