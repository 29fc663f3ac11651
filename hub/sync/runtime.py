"""The connector factory (``connector_for``): a connection's settings + decrypted credentials
+ its own HttpClient, with refreshed credentials persisted (encrypted) and API calls counted on
the connection (``record_api_calls``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime
from typing import Any, Protocol

from flask import Flask, current_app
from redis.exceptions import LockError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub import crypto, registry
from hub.connectors import Connector, ConnectorContext
from hub.core.errors import TransientError
from hub.extensions import db, redis_connection
from hub.models import Connection, SyncRun
from hub.sync.egress import policy_for
from hub.sync.http import INTERACTIVE, HttpClient


class CallMeter:
    """Counts HTTP calls as they happen; ``take()`` returns the count since the last take."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = 0

    def __call__(self, *_args: Any) -> None:
        with self._lock:
            self._pending += 1

    def take(self) -> int:
        with self._lock:
            count, self._pending = self._pending, 0
            return count


class StoredConnection(Protocol):
    """What the factory reads of a connection: a ``Connection`` or a row of its columns."""

    @property
    def id(self) -> int | None: ...
    @property
    def platform(self) -> str: ...
    @property
    def settings(self) -> dict[str, Any] | None: ...
    @property
    def credentials_enc(self) -> bytes | None: ...


def connection_config(connection: StoredConnection) -> dict[str, Any]:
    """Plain settings plus decrypted secrets: what the connector is built from."""
    return {**(connection.settings or {}), **crypto.decrypt_json(connection.credentials_enc)}


def connector_for(
    connection: StoredConnection,
    *,
    config: Mapping[str, Any] | None = None,
    interactive: bool = False,
    app: Flask | None = None,
) -> Connector:
    """The one connector factory: the connector of ``connection`` built from its settings and
    decrypted credentials, with its own HttpClient (counting calls for ``record_api_calls``)
    that reaches only the addresses the app's egress policy allows. Credentials the connector
    refreshes are saved (encrypted) on the connection.

    ``config`` checks other settings instead of the stored ones (a bind, new credentials):
    nothing the connector refreshes is saved then. ``interactive``: a person waits for it,
    so calls fail fast: short timeouts and no retries."""
    app = app or current_app
    cls = registry.get(connection.platform, app)
    stored = config is None
    config = connection_config(connection) if stored else dict(config)
    meter = CallMeter()
    waiting = {}
    if interactive:
        seconds = interactive_timeout(app.config)
        waiting = {**INTERACTIVE, "timeout": (seconds, seconds)}
    http = HttpClient(on_call=meter, egress=policy_for(app.config), **waiting)
    secrets = cls.secret_fields()
    context = ConnectorContext(
        connection_id=connection.id,
        credentials={k: v for k, v in config.items() if k in secrets},
        http=http,
        save_credentials=_saver(connection.id if stored else None),
        extra={"meter": meter},
        official_bases=official_bases(app.config),
        load_credentials=_loader(connection.id if stored else None, app),
        lock=_locker(app),
    )
    return cls(config, context)


def _loader(connection_id: int | None, app: Flask) -> Callable[[], dict[str, Any]] | None:
    if connection_id is None:
        return None
    return lambda: load_credentials(connection_id, app)


def load_credentials(connection_id: int, app: Flask | None = None) -> dict[str, Any]:
    """The connection's stored credentials as they are now (decrypted), in a short separate
    read: another process may have refreshed a token since the connector was built."""
    with (app or current_app).app_context(), Session(db.engine) as session:
        enc = session.scalar(
            select(Connection.credentials_enc).where(Connection.id == connection_id)
        )
    return crypto.decrypt_json(enc)


LOCK_SECONDS = 60  # the longest a lock is held (a token call is short)


def _locker(app: Flask) -> Callable[[str], AbstractContextManager[Any]]:
    """A cross-process lock by key through the app's Redis (e.g. around a token refetch)."""

    @contextmanager
    def lock(key: str) -> Iterator[None]:
        held = redis_connection(app).lock(key, timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)
        if not held.acquire():
            raise TransientError(f"could not take the lock {key} within {LOCK_SECONDS} s")
        try:
            yield
        finally:
            with suppress(LockError):
                held.release()

    return lock


def interactive_timeout(config: Mapping[str, Any]) -> float:
    """``PLATFORM_WEB_TIMEOUT``: the seconds a platform call made while a person waits may
    take to connect, and again to answer (default 5; at least 0.1)."""
    try:
        return max(0.1, float(config.get("PLATFORM_WEB_TIMEOUT") or 5))
    except (TypeError, ValueError):
        return 5.0


def _saver(connection_id: int | None) -> Callable[[dict[str, Any]], None]:
    if connection_id is None:
        return lambda _creds: None
    return lambda new: save_credentials(connection_id, new)


def official_bases(config: Mapping[str, Any]) -> dict[str, str]:
    """``OFFICIAL_API_BASES``: stand-ins for platforms' official API bases, so that a test can
    serve "the official Youzan" from a local sandbox. Honoured only when TESTING and given as
    a mapping by the code that creates the app: the environment only gives strings (ignored),
    and bind settings never reach the configuration."""
    overrides = config.get("OFFICIAL_API_BASES")
    if config.get("TESTING") and isinstance(overrides, Mapping):
        return {str(k): str(v) for k, v in overrides.items()}
    return {}


def save_credentials(connection_id: int, new: dict[str, Any]) -> None:
    """Merge refreshed credentials into the stored ones, in a short separate transaction,
    so a token refreshed mid-sync survives a failure of the page that needed it."""
    with Session(db.engine) as session, session.begin():
        conn = session.get(Connection, connection_id, with_for_update=True)
        if conn is None:
            return
        expires = new.get("expires_at")
        if isinstance(expires, str):
            expires = datetime.fromisoformat(expires)
        if isinstance(expires, datetime) and expires.tzinfo is not None:
            conn.credential_expires_at = expires
            new = {**new, "expires_at": expires.isoformat()}
        merged = {**crypto.decrypt_json(conn.credentials_enc), **new}
        conn.credentials_enc = crypto.encrypt_json(merged)


def record_api_calls(
    session: Session, connector: Connector, connection_id: int, run_id: int | None = None
) -> int:
    """Add the calls made since the last record to the connection (and the run), in the
    caller's transaction, with SQL increments so concurrent writers never lose a count."""
    meter = connector.context.extra.get("meter")
    count = meter.take() if meter is not None else 0
    if count:
        session.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(api_calls=Connection.api_calls + count)
        )
        if run_id is not None:
            session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(api_calls=SyncRun.api_calls + count)
            )
    return count
