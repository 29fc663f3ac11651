"""Plotly figures for the analysis tables (data in, Figure out; nothing is shown here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

LAYOUT = {"template": "plotly_white", "margin": {"l": 40, "r": 20, "t": 50, "b": 40}}


def line_chart(table: pd.DataFrame, columns: list[str], title: str) -> go.Figure:
    """One line per column over the table's index (a time axis)."""
    fig = go.Figure([go.Scatter(x=table.index, y=table[c], name=c, mode="lines") for c in columns])
    return fig.update_layout(title=title, **LAYOUT)


def bar_chart(series: pd.Series, title: str, horizontal: bool = False) -> go.Figure:
    """Bars of a series (index as the categories)."""
    labels = [str(i) for i in series.index]
    bar = go.Bar(y=labels, x=series.to_numpy(), orientation="h") if horizontal else None
    bar = bar or go.Bar(x=labels, y=series.to_numpy())
    return go.Figure(bar).update_layout(title=title, **LAYOUT)


def stacked_bars(table: pd.DataFrame, columns: list[str], title: str) -> go.Figure:
    """Stacked bars per index value, one trace per column."""
    fig = go.Figure([go.Bar(x=table.index, y=table[c], name=c) for c in columns])
    return fig.update_layout(barmode="stack", title=title, **LAYOUT)


def cohort_heatmap(retention: pd.DataFrame, title: str = "Cohort retention") -> go.Figure:
    """Heatmap of ``cohort_retention`` (share of the cohort ordering N months later)."""
    shares = retention.drop(columns="customers", errors="ignore")
    fig = go.Figure(
        go.Heatmap(
            z=shares.to_numpy(),
            x=[str(c) for c in shares.columns],
            y=[str(i) for i in shares.index],
            colorscale="Blues",
            zmin=0,
            zmax=1,
        )
    )
    return fig.update_layout(title=title, xaxis_title="months since first order", **LAYOUT)


def funnel_chart(table: pd.DataFrame, title: str = "Funnel") -> go.Figure:
    """A funnel of the ``funnel`` table (persons per step)."""
    trace = go.Funnel(y=table["event"], x=table["persons"], textinfo="value+percent initial")
    fig = go.Figure(trace)
    return fig.update_layout(title=title, **LAYOUT)


def histogram(values: pd.Series, title: str, nbins: int = 40) -> go.Figure:
    """A histogram of a numeric series, binned here so the figure stays small at any size."""
    data = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    counts, edges = np.histogram(data, bins=nbins) if len(data) else (np.array([]), np.zeros(1))
    centres = (edges[:-1] + edges[1:]) / 2
    bar = go.Bar(x=centres, y=counts, width=np.diff(edges) if len(edges) > 1 else None)
    return go.Figure(bar).update_layout(title=title, bargap=0.02, **LAYOUT)


def scatter(table: pd.DataFrame, x: str, y: str, title: str, text: str | None = None) -> go.Figure:
    """Points of two columns, optionally labelled."""
    labels = table[text].astype(str) if text else None
    fig = go.Figure(go.Scatter(x=table[x], y=table[y], mode="markers", text=labels))
    return fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, **LAYOUT)
