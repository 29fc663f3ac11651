"""Process-wide state changed for one batch and restored after it.

The write-behinds add their own, scoped the same way (``hub.core.sqlite.behind`` and
``hub.core.postgres.behind``: the interpreter's switch interval, and a listener on the batch's
connection)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
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
def cycle_collector_deferred(every: int) -> Iterator[Callable[[], None]]:
    """Python's cycle collector paused for a whole loop of batches (a sync's stream), run by
    hand on the young generations at every ``every``-th call of the function yielded.

    Pausing it batch by batch (``cycle_collector_paused``) leaves it on between batches, where
    its first allocation sets off a collection of everything allocated meanwhile: the pages the
    read-ahead thread decoded and mapped, alive in its queue, are scanned and promoted at every
    batch, and the full collections that follow rescan the whole heap. A stream's pages and
    batches make next to no cyclic garbage (about 12,000 objects over a 36,000-order sync), so
    collecting the young generations by hand every few batches keeps what little there is
    from piling up over a long run at a sliver of the cost; the collector resumes afterwards
    as it was (objects that reached the oldest generation meanwhile wait for its next full
    collection)."""
    enabled = gc.isenabled()
    gc.disable()
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks % every == 0:
            gc.collect(1)

    try:
        yield tick
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
