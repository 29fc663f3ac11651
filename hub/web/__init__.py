"""Blueprints. Each module owns one ``bp``; ``init_app`` registers them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from hub.web import (
        api,
        api_imports,  # noqa: F401  (attaches /api/v1/imports to api.bp)
        api_privacy,  # noqa: F401  (attaches /api/v1/privacy-requests to api.bp)
        api_rules,  # noqa: F401  (attaches /api/v1/rules to api.bp)
        errors,
        inputs,
        webhooks,
    )

    inputs.init_app(app)  # first: the routes below are built with its id converter

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(api.bp)

    from hub.web import admin, auth, i18n, security, zones

    security.init_app(app)
    i18n.init_app(app)
    zones.init_app(app)
    auth.init_app(app)
    admin.register(app)

    from hub.web import language

    app.register_blueprint(language.bp)

    from hub.web import dashboard

    app.register_blueprint(dashboard.bp)
    # Last: under /api and /webhooks even unrouted errors (404/405/413) answer in JSON.
    errors.install(app)
