"""The named RQ queues. RQ is transport only: the business status of work lives in SQL."""

from __future__ import annotations

from flask import Flask
from rq import Queue

from hub.extensions import redis_connection

WEBHOOKS = "webhooks"
SYNC = "sync"
IMPORTS = "imports"
ANALYTICS = "analytics"
QUEUES: tuple[str, ...] = (WEBHOOKS, SYNC, IMPORTS, ANALYTICS)


def queue(name: str, app: Flask | None = None) -> Queue:
    """The queue ``name`` on the application's Redis (explicit connection, never a global)."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
    return Queue(name, connection=redis_connection(app))
