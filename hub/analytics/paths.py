"""Paths: the most common sequences of events per person, and a Sankey of them."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from hub.analytics.frames import as_ns, require

ARROW = " → "


def paths(
    events: pd.DataFrame,
    start: str | None = None,
    end: str | None = None,
    depth: int = 5,
    person_col: str = "customer_id",
    event_col: str = "type",
    time_col: str = "occurred_at",
    top: int = 20,
) -> pd.DataFrame:
    """Each person's events in time order, from their first ``start`` event (if given), cut
    after their first ``end`` event (if given) and at ``depth`` steps; the ``top`` sequences
    with persons and share. Column ``steps`` holds the tuple, ``path`` the readable string."""
    require(events, [person_col, event_col, time_col], "events")
    frame = events[[person_col, event_col]].assign(_t=as_ns(events[time_col]))
    frame = frame.sort_values([person_col, "_t"], kind="stable")
    seqs = frame.groupby(person_col, sort=False)[event_col].agg(list)
    cut = seqs.map(lambda seq: _cut(seq, start, end, depth)).dropna()
    if cut.empty:
        return pd.DataFrame(columns=["steps", "path", "persons", "share"])
    counts = cut.value_counts()
    out = pd.DataFrame({"steps": counts.index, "persons": counts.to_numpy()})
    out = out.sort_values(["persons", "steps"], ascending=[False, True], kind="stable")
    out.insert(1, "path", out["steps"].map(ARROW.join))
    out["share"] = out["persons"] / len(cut)
    return out.head(top).reset_index(drop=True)


def _cut(seq: list, start: str | None, end: str | None, depth: int) -> tuple | None:
    if start is not None:
        if start not in seq:
            return None
        seq = seq[seq.index(start) :]
    if end is not None and end in seq:
        seq = seq[: seq.index(end) + 1]
    return tuple(seq[:depth])


def sankey(top_paths: pd.DataFrame, title: str = "Paths") -> go.Figure:
    """A Sankey of the paths table: node "i. event" per step position, links weighted by persons."""
    nodes: dict[str, int] = {}
    links: dict[tuple[int, int], int] = {}
    for steps, persons in zip(top_paths["steps"], top_paths["persons"], strict=True):
        labels = [f"{i + 1}. {name}" for i, name in enumerate(steps)]
        ids = [nodes.setdefault(label, len(nodes)) for label in labels]
        for a, b in zip(ids, ids[1:], strict=False):
            links[(a, b)] = links.get((a, b), 0) + int(persons)
    fig = go.Figure(
        go.Sankey(
            node={"label": list(nodes), "pad": 15},
            link={
                "source": [a for a, _ in links],
                "target": [b for _, b in links],
                "value": list(links.values()),
            },
        )
    )
    return fig.update_layout(title=title)
