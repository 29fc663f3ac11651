"""Read a stream's next pages while the current ones are applied.

A sync alternates between waiting for the platform and applying what it sent. ``ReadAhead``
runs the stream's page iterator in a thread, up to ``depth`` pages ahead, so the platform
prepares the next page while the hub writes this one (the socket wait and SQLite's own work
release the GIL). Order is kept and nothing is applied early: the engine still commits each
batch with its cursor, so a run that dies with pages read ahead simply reads them again. The
engine's source freezes each page's state as it is yielded, in this thread
(``hub.sync.batch.frozen``), so reading further cannot move the cursor of a page that waits.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"


class ReadAhead(Generic[T]):
    """Iterate ``source`` in a background thread, at most ``depth`` items ahead.

    An exception raised by ``source`` is raised by ``next()`` at the same position. Call
    ``close()`` (or use it as a context manager) when stopping early: the thread then
    stops at its next item instead of reading the rest."""

    def __init__(self, source: Iterable[T], depth: int = 2, name: str = "read-ahead") -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        # The thread runs in a copy of the caller's context (the app context among it), so a
        # connector saving a refreshed token there finds its app; it never touches the
        # caller's session.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, source), name=name, daemon=True
        )
        self._thread.start()

    def _run(self, source: Iterable[T]) -> None:
        try:
            for item in source:
                if not self._put((_ITEM, item)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((_ERROR, exc))

    def _put(self, entry: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == _ITEM:
            return value
        self._done = True
        self._thread.join()
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self, timeout: float = 30.0) -> None:
        """Stop reading ahead and wait (up to ``timeout``) for the thread to finish its
        current item."""
        self._done = True
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout)

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
