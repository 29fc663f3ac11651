"""Blueprints. Each module owns one ``bp``; ``init_app`` registers them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from hub.web import api, webhooks

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(api.bp)
