"""The PostgreSQL pass of the suite (HUB_TEST_DATABASE_URL set) runs every test that can reach
the database and leaves out only those that cannot (they ran in the SQLite pass already)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    "tests/integration/test_migrations.py",  # the app on the database: all kept
    "tests/integration/test_wal_checkpoint.py",  # kept but one that opens no database
    "tests/unit/core/test_events.py",  # pure functions: none kept
]


def collected(**env: str) -> tuple[set[str], str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HUB_TEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *FILES],
        cwd=ROOT, env={**environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return {line for line in result.stdout.splitlines() if "::" in line}, result.stdout


def test_the_postgresql_pass_keeps_exactly_the_tests_that_reach_the_database() -> None:
    everything, _ = collected()
    url = "postgresql+psycopg://postgres@127.0.0.1:1/never_connected"
    kept, output = collected(HUB_TEST_DATABASE_URL=url)
    left_out = everything - kept
    assert {t for t in everything if "test_migrations.py" in t} <= kept
    assert {t for t in everything if "test_events.py" in t} <= left_out
    assert {t for t in left_out if "test_wal_checkpoint.py" in t} == {
        "tests/integration/test_wal_checkpoint.py::test_a_failed_checkpoint_is_logged_and_not_raised"
    }
    assert f"{len(kept)}/{len(everything)} tests collected ({len(left_out)} deselected)" in output


def test_hub_test_every_test_keeps_every_test_in_the_postgresql_pass(monkeypatch) -> None:
    from types import SimpleNamespace

    from tests.conftest import pytest_collection_modifyitems

    on_db, not_on_db = SimpleNamespace(fixturenames=["app", "postgres_url"]), SimpleNamespace()
    items = [on_db, not_on_db]
    deselected: list = []
    hook = SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items))
    monkeypatch.setenv("HUB_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    monkeypatch.setenv("HUB_TEST_EVERY_TEST", "1")
    kept = list(items)
    pytest_collection_modifyitems(SimpleNamespace(hook=hook), kept)  # type: ignore[arg-type]
    assert kept == items and deselected == []
    monkeypatch.delenv("HUB_TEST_EVERY_TEST")
    pytest_collection_modifyitems(SimpleNamespace(hook=hook), kept)  # type: ignore[arg-type]
    assert kept == [on_db] and deselected == [not_on_db]


def test_only_the_postgres_url_fixture_reads_the_database_url() -> None:
    """The selection relies on it: a test reaches PostgreSQL only through ``postgres_url``."""
    readers = [
        str(path.relative_to(ROOT))
        for folder in ("tests", "hub", "connectors", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if "HUB_TEST_DATABASE_URL" in path.read_text(encoding="utf-8")
    ]
    assert sorted(readers) == ["tests/conftest.py", "tests/test_suite_passes.py"]


def test_each_test_starts_on_an_empty_schema_as_the_models_define_it(app, workspace) -> None:
    """What the ``app`` fixture does between tests (on PostgreSQL it empties the tables instead
    of rebuilding them, and rebuilds them only when a test changed the schema) leaves every
    table empty, ids counted from 1 again and no trace of a changed schema."""
    from sqlalchemy import inspect, text

    from hub.extensions import db
    from hub.models import User, Workspace
    from tests.conftest import _reset_schema

    db.session.add(User(workspace_id=workspace.id, email="a@example.com", password_hash="x"))
    db.session.commit()
    db.session.remove()
    for change in (None, "ALTER TABLE workspaces ADD COLUMN spare_note VARCHAR(20)"):
        if change:
            with db.engine.begin() as conn:
                conn.execute(text(change))
        if db.engine.dialect.name == "sqlite":
            db.drop_all()  # what a new file gives the next test
        _reset_schema()
        assert db.session.query(User).count() == db.session.query(Workspace).count() == 0
        assert "spare_note" not in {c["name"] for c in inspect(db.engine).get_columns("workspaces")}
        again = Workspace(name="Again", slug="again")
        db.session.add(again)
        db.session.commit()
        assert again.id == 1
        db.session.remove()
