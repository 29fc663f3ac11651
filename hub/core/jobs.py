"""Jobs run in order on a thread of their own while the caller goes on: what both write-behinds
(``hub.core.sqlite.behind``, ``hub.core.postgres.behind``) are made of.

A failed job fails the whole series: the jobs after it are dropped, and its error is raised in
the caller's thread at the next ``put`` or ``wait`` (at the latest at ``close``)."""

from __future__ import annotations

import queue
import threading
from typing import Any


class JobThread:
    """Subclasses say how one job runs (``run``) and may hold a resource for the thread's life
    (``begin`` / ``end``, called on the thread)."""

    def __init__(self, name: str) -> None:
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.done = threading.Condition()
        self.queued = 0  # jobs queued so far; job n is done once finished >= n
        self.finished = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def run(self, job: Any) -> None:
        raise NotImplementedError

    def begin(self) -> None:
        """On the thread, before its first job."""

    def end(self) -> None:
        """On the thread, after its last job."""

    def put(self, job: Any) -> int:
        """Queue ``job``; its number, for :meth:`wait`."""
        with self.done:
            if self.error is not None:
                raise self.error
            self.queued += 1
            number = self.queued
        self.jobs.put(job)
        return number

    def wait(self, number: int | None = None) -> None:
        """Return once job ``number`` (every job queued, with None) has run; raise the first
        job's error."""
        with self.done:
            target = self.queued if number is None else number
            while self.finished < target and self.error is None:
                self.done.wait()
            if self.error is not None:
                raise self.error

    def close(self, *, discard: bool = False) -> None:
        """Stop the thread once the queued jobs ran; with ``discard``, drop those not started."""
        if discard:
            with self.done:
                self.error = self.error or Discarded()
        self.jobs.put(None)
        self.thread.join()
        if not discard:
            self.wait()

    def _loop(self) -> None:
        self.begin()
        try:
            while (job := self.jobs.get()) is not None:
                if self.error is None:
                    try:
                        self.run(job)
                    except BaseException as exc:  # handed to the caller's thread
                        with self.done:
                            self.error = exc
                with self.done:
                    self.finished += 1
                    self.done.notify_all()
        finally:
            self.end()


class Discarded(Exception):
    """The series failed elsewhere; the jobs still queued were dropped."""
