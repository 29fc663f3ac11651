"""Tributary: a commerce data hub."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is loaded by create_app, not by importing hub (hub.core stays Flask-free)
    from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application factory. Nothing connects here; extensions bind lazily."""
    from flask import Flask

    from hub import cli, config, extensions, registry, web

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.defaults(app.instance_path))
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    config.check_secrets(app.config)

    import hub.models  # noqa: F401  (registers the tables)

    extensions.init_app(app)
    registry.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
