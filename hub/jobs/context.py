"""The app context of every RQ job. Jobs take ids, never ORM objects, and run inside a Flask
app context: the current one when pushed (a worker started by ``run_worker``), else one app per
process built from the environment on first use (never at import; ``hub.app_factory``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, has_app_context

from hub.app_factory import build_app

_app: Flask | None = None
_pid: int | None = None


@contextmanager
def app_context() -> Iterator[None]:
    """Enter an application context, creating the process's app if none is pushed."""
    global _app
    if has_app_context():
        _fresh_connections()
        yield
        return
    if _app is None:
        _app = build_app()
    with _app.app_context():
        _fresh_connections()
        yield


def _fresh_connections() -> None:
    """After a fork (RQ runs each job in a work horse), never reuse the parent's sockets."""
    global _pid
    if _pid != os.getpid():
        from hub.extensions import db

        db.engine.dispose(close=False)
        _pid = os.getpid()
