"""What the suite's fixtures share between tests to save time leaves each test the same start:
URL builders shared between the tests' apps build the same URLs as builders of their own, and a
new SQLite file copied from the first test's schema holds exactly what ``create_all`` builds."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import text
from werkzeug.routing import IntegerConverter, Rule

from hub import create_app
from hub.extensions import db
from tests.conftest import _SQLITE_TEMPLATES, _reset_schema


def test_apps_share_url_builders_that_build_what_their_own_would(app_config: dict) -> None:
    first, second = create_app(app_config), create_app(app_config)
    rules = {rule.endpoint: rule for rule in first.url_map.iter_rules()}
    assert len(rules) > 100
    for other in second.url_map.iter_rules():
        rule = rules[other.endpoint]
        assert other is not rule
        assert other._build.__func__ is rule._build.__func__  # compiled once, for both apps
        own = Rule._compile_builder.__wrapped__(other, False).__get__(other, None)  # type: ignore[attr-defined]
        values = {
            name: 7 if isinstance(conv, IntegerConverter) else "a b/ü"
            for name, conv in other._converters.items()
        }
        assert other._build(**values) == own(**values), other.rule
        assert other._build_unknown(**values, q="x y") == rule._build_unknown(**values, q="x y")


def _schema(app: Flask) -> list[tuple[str, str]]:
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master ORDER BY name")).all()
        db.engine.dispose()
    return [(name, sql) for name, sql in rows]


def _app_on(path: Path, app_config: dict) -> Flask:
    return create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def test_a_new_sqlite_file_copied_from_the_kept_schema_is_what_create_all_builds(
    app_config: dict, tmp_path: Path
) -> None:
    for name in ("first.db", "copied.db"):  # the second is a copy, whichever test came first
        app = _app_on(tmp_path / name, app_config)
        with app.app_context():
            _reset_schema()
            db.session.execute(text("SELECT count(*) FROM workspaces")).scalar_one()
            db.session.remove()
            db.engine.dispose()
    assert _SQLITE_TEMPLATES
    built = _app_on(tmp_path / "built.db", app_config)
    with built.app_context():
        db.create_all()
        db.engine.dispose()
    copied = _schema(_app_on(tmp_path / "copied.db", app_config))
    assert copied == _schema(built)
    assert any(name == "workspaces" for name, _ in copied)
