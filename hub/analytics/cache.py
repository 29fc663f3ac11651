"""A per-run cache of loaded frames, shared by the kernels of one ``hub report`` run.

Off unless ``HUB_ANALYTICS_CACHE`` names a directory (the report creates a private temporary
one, fills it once, and deletes it after the run), so notebooks that need the same orders read
the database once instead of once each.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pandas as pd

ENV = "HUB_ANALYTICS_CACHE"


def key(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _path(name: str) -> Path | None:
    folder = os.environ.get(ENV)
    return Path(folder) / f"{name}.pkl" if folder else None


def get(name: str) -> pd.DataFrame | None:
    path = _path(name)
    if path is None or not path.exists():
        return None
    return pd.read_pickle(path)  # noqa: S301  (our own file in our private run directory)


def put(name: str, df: pd.DataFrame) -> None:
    path = _path(name)
    if path is not None:
        partial = path.with_suffix(".partial")
        df.to_pickle(partial)
        partial.replace(path)
