"""The application factory by name, for what builds an app of its own outside ``create_app``'s
callers: the ``hub`` console script, ``python -m hub.jobs.worker``, a job run outside
``hub worker``. ``create_app`` builds the web and the CLI, which reach all of these, so they
name it (as ``flask --app hub`` does, and as RQ names a job's function) instead of importing
it: no circular import."""

from __future__ import annotations

import importlib

from flask import Flask

APP_FACTORY = "hub:create_app"


def build_app() -> Flask:
    """A new application from the environment (HUB_* variables)."""
    module, _, name = APP_FACTORY.partition(":")
    return getattr(importlib.import_module(module), name)()
