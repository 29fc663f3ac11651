"""Process-wide state changed for one batch and restored after it.

The write-behinds add their own, scoped the same way (``hub.core.sqlite.behind`` and
``hub.core.postgres.behind``: the interpreter's switch interval, and a listener on the batch's
connection)."""

from __future__ import annotations

import gc
import sys
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


@contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """The interpreter's switch interval set to ``seconds`` for the block, then set back to
    exactly what it was: the interpreter keeps whole microseconds, truncated, so setting back
    the float it gave (0.003699 is 3698.99... microseconds) would lose one at every batch."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval((round(before * 1e6) + 0.5) / 1e6)
