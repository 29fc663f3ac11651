"""Process-wide state changed for one batch and restored after it.

The SQLite fast path adds its own, scoped the same way (``hub.core.sqlite.behind``: the
interpreter's switch interval and a listener on the batch's connection)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a batch is planned and written.

    A batch allocates tens of thousands of short-lived tuples and records that survive just
    long enough to be promoted, so the collector would keep rescanning the whole heap in the
    middle of it (a sixth of the ingest's time in bench/ingest.py). The batch
    is bounded and makes no reference cycles of its own; the collector resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
