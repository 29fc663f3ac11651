"""The migrations build exactly the models' schema (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, text

from hub.extensions import db
from hub.models.base import made_on

# SQLite's reflection skips an index on an expression (tags' lower(name), issue 22.5), and
# alembic's comparison with it, saying so; PostgreSQL compares it. test_tags_any_case checks it.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based"),
]


def _empty_database() -> None:
    """Drop what the fixture created, so the migrations start from nothing."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.drop_all()
    assert inspect(db.engine).get_table_names() == []


def _differences() -> list:
    with db.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": made_on(conn.dialect.name)}
        return compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": []}  # the schema does not depend on connectors


@pytest.fixture
def empty_db(app: Flask) -> Flask:
    _empty_database()
    return app


def test_upgrade_to_head_builds_exactly_the_models_schema(empty_db: Flask) -> None:
    flask_migrate.upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert tables - set(db.metadata.tables) == {"alembic_version"}
    assert _differences() == []


def test_models_changed_without_a_migration_is_detected(empty_db: Flask) -> None:
    """The comparison above can fail: a column the migrations lack shows up as a difference."""
    flask_migrate.upgrade()
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE workspaces ADD COLUMN spare_note VARCHAR(20)"))
    diffs = _differences()
    assert any(d[0] == "remove_column" and d[3].name == "spare_note" for d in diffs)


def test_downgrade_to_base_removes_every_table(empty_db: Flask) -> None:
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_one_initial_revision_with_one_head(app: Flask) -> None:
    from alembic.script import ScriptDirectory

    config = app.extensions["migrate"].migrate.get_config()
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    assert scripts.get_base() is not None
