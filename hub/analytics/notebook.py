"""Notebook helpers: plotly.js inlined once, figures as HTML that needs no network, and the
tables an analyst exports at the end."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from pandas.api.types import is_numeric_dtype

from hub.core.formulas import neutralise


class Html:
    """Rich HTML output for Jupyter (and nbconvert) without importing IPython here."""

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


@cache
def plotly_source() -> str:
    """The plotly.js bundled in the plotly Python package (no CDN)."""
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text("utf-8")


def plotly_js() -> Html:
    """Display once at the top of a notebook: defines ``window.Plotly`` inline."""
    return Html(f'<script type="text/javascript">{plotly_source()}</script>')


def show(fig: go.Figure, caption: str | None = None) -> Html:
    """A figure as a div drawn by the inlined plotly.js; ``caption`` says what it shows."""
    div = fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
    note = f'<p class="caption">{caption}</p>' if caption else ""
    return Html(f'<div class="hub-figure">{div}{note}</div>')


def export(tables: dict[str, pd.DataFrame], directory: str | None = None) -> pd.DataFrame:
    """Write each table to ``directory/<name>.csv`` when a directory is given, with text a
    spreadsheet would run as a formula (a product named '=HYPERLINK(…)') neutralised;
    returns the list of tables (name, rows, file) to display."""
    rows = []
    for name, table in tables.items():
        path = None
        if directory:
            target = Path(directory)
            target.mkdir(parents=True, exist_ok=True)
            path = str(target / f"{name}.csv")
            _neutralised(table).to_csv(path)
        rows.append({"table": name, "rows": len(table), "file": path})
    return pd.DataFrame(rows)


def _neutralised(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its text cells (and text index) neutralised; numbers stay numbers."""
    safe = table.copy()
    for column in safe.columns:
        if not is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(_cell)
    index = safe.index
    if isinstance(index, pd.MultiIndex):
        safe.index = pd.MultiIndex.from_tuples([tuple(map(_cell, key)) for key in index],
                                               names=index.names)  # fmt: skip
    elif not is_numeric_dtype(index):
        safe.index = index.map(_cell)
    return safe


def _cell(value: object) -> object:
    return neutralise(value) if isinstance(value, str) else value
