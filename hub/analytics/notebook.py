"""Notebook helpers: plotly.js inlined once, figures as HTML that needs no network, and the
tables an analyst exports at the end."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go


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
    """Write each table to ``directory/<name>.csv`` when a directory is given; returns the list
    of tables (name, rows, file) to display."""
    rows = []
    for name, table in tables.items():
        path = None
        if directory:
            target = Path(directory)
            target.mkdir(parents=True, exist_ok=True)
            path = str(target / f"{name}.csv")
            table.to_csv(path)
        rows.append({"table": name, "rows": len(table), "file": path})
    return pd.DataFrame(rows)
