"""SQLite WAL checkpoints on a background thread, not in the committing one.

In WAL mode a commit appends pages to the ``-wal`` file; a checkpoint copies them back into
the database file. SQLite's automatic checkpoint runs inside the commit that crosses its
threshold (``wal_autocheckpoint``, see ``hub.extensions``), so every twelfth ingest batch or so
stalled for a third of a second while 64 MiB of pages were copied and synced. After each
ingest commit (whoever commits: :func:`checkpoint_after_commit` hooks the session's next
commit) :func:`checkpoint_soon` instead wakes a thread of this process that runs a
PASSIVE checkpoint on a connection of its own: SQLite copies the pages without the GIL and
without blocking readers or the writer, while the next batch is being prepared. A WAL that is
wholly copied is started again from its beginning by the next write, so it stays about one
batch long, and the automatic checkpoint is left as the fallback it was meant to be.

One thread per database file and process, ended after a few idle seconds.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

# A checkpointer with no request for this long closes its connection and ends.
IDLE_SECONDS = 5.0

_lock = threading.Lock()
_running: dict[str, _Checkpointer] = {}


def _forget_after_fork() -> None:
    """A forked child (an RQ work horse) has none of its parent's threads: it starts its own."""
    global _lock
    _lock = threading.Lock()
    _running.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


# The session's info key marking a checkpoint asked for at its next commit.
_PENDING = "hub_checkpoint_after_commit"


def checkpoint_after_commit(session: Session | scoped_session[Session]) -> None:
    """Ask for :func:`checkpoint_soon` when the session's transaction commits, whether the core
    or its caller (the sync engine, which commits its progress with the batch) commits it; a
    rollback forgets the request. The hooks live on that session only, and a session (a
    request's, a job's) asks once per commit however many batches it applies."""
    target = session() if isinstance(session, scoped_session) else session
    target.info[_PENDING] = True
    if not event.contains(target, "after_commit", _after_commit):
        event.listen(target, "after_commit", _after_commit)
        event.listen(target, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        checkpoint_soon(session)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def checkpoint_soon(session: Session) -> None:
    """Ask for a passive checkpoint of the session's SQLite database file (no-op elsewhere)."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    path = bind.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    path = os.path.abspath(path)
    with _lock:
        worker = _running.get(path)
        if worker is None or not worker.take_request():
            worker = _Checkpointer(path)
            _running[path] = worker
            worker.start()


def wait_idle(timeout: float = 10.0) -> bool:
    """Wait until every checkpointer of this process has done what it was asked (for tests
    and benchmarks); False on timeout."""
    with _lock:
        workers = list(_running.values())
    return all(w.wait_idle(timeout) for w in workers)


class _Checkpointer:
    def __init__(self, path: str) -> None:
        self.path = path
        self.cond = threading.Condition()
        self.requested = 1  # created for a request
        self.done = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="hub-wal-checkpoint", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def take_request(self) -> bool:
        """Count one more request; False if the thread has ended (start another)."""
        with self.cond:
            if self.stopped:
                return False
            self.requested += 1
            self.cond.notify()
            return True

    def wait_idle(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.stopped or self.done >= self.requested, timeout)

    def _run(self) -> None:
        con = None
        try:
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            while True:
                with self.cond:
                    if self.done >= self.requested and not self.cond.wait_for(
                        lambda: self.done < self.requested, IDLE_SECONDS
                    ):
                        self.stopped = True
                        self.cond.notify_all()
                        return
                    target = self.requested
                # Requests that arrive while this runs are covered by the next round.
                con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                with self.cond:
                    self.done = target
                    self.cond.notify_all()
        except Exception:  # the commit's own autocheckpoint remains the fallback
            log.exception("background WAL checkpoint of %s failed", self.path)
        finally:
            with self.cond:
                self.stopped = True
                self.cond.notify_all()
            with _lock:
                if _running.get(self.path) is self:
                    del _running[self.path]
            if con is not None:
                con.close()
