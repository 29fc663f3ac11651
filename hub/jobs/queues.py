"""The named RQ queues. RQ is transport only: the business status of work lives in SQL."""

from __future__ import annotations

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue

from hub.extensions import redis_connection

WEBHOOKS = "webhooks"
SYNC = "sync"
IMPORTS = "imports"
ANALYTICS = "analytics"
QUEUES: tuple[str, ...] = (WEBHOOKS, SYNC, IMPORTS, ANALYTICS)

# What redis-py raises when Redis cannot be reached (down, restarting, or the network).
REDIS_DOWN: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


def queue(name: str, app: Flask | None = None) -> Queue:
    """The queue ``name`` on the application's Redis (explicit connection, never a global)."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
    return Queue(name, connection=redis_connection(app))


def workers_listening(name: str, app: Flask | None = None) -> int:
    """How many live workers take jobs from queue ``name``: RQ's worker registry, whose entries
    expire when a worker stops beating (a worker killed outright stays listed up to its TTL)."""
    from rq import Worker

    return len(Worker.all(queue=queue(name, app)))


def no_worker_hint(queue_name: str) -> str:
    """What to do when no worker listens on ``queue_name``: the command that starts one."""
    return (
        f"no worker is running to take jobs from the {queue_name} queue: start one with "
        "`hub worker` (in another terminal or as a service)"
    )
