"""Connector classes by stable platform name, loaded from a config list of dotted names.

Loaded inside ``create_app`` (never at import) and kept on the app, not in a module global.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from flask import Flask, current_app

from hub.connectors import Connector


class UnknownPlatform(KeyError):
    """No connector is registered under that platform name."""


def load(paths: Iterable[str]) -> dict[str, type[Connector]]:
    registry: dict[str, type[Connector]] = {}
    for path in paths:
        module_name, _, attr = path.partition(":")
        cls = getattr(importlib.import_module(module_name), attr)
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise TypeError(f"{path} is not a Connector subclass")
        if cls.platform in registry:
            raise ValueError(f"platform {cls.platform!r} registered twice")
        registry[cls.platform] = cls
    return registry


def init_app(app: Flask) -> None:
    app.extensions["hub.connectors"] = load(app.config["CONNECTORS"])


def connectors(app: Flask | None = None) -> dict[str, type[Connector]]:
    app = app or current_app
    return app.extensions["hub.connectors"]


def get(platform: str, app: Flask | None = None) -> type[Connector]:
    try:
        return connectors(app)[platform]
    except KeyError:
        raise UnknownPlatform(platform) from None
