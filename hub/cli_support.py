"""Helpers shared by every ``hub`` command: ``--json``, one-line errors and the app context.

A command module (ours or another package's) writes::

    @click.command("ship")
    @hub_command()
    def ship(...): ...; emit({"id": 1}, "Shipped order 1")

and gets ``--json``, the application context and exit code 1 with one clear line on failure.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import ScriptInfo
from marshmallow import ValidationError

from hub.config import ConfigError as StartupError
from hub.core.errors import HubError
from hub.crypto import DecryptionError
from hub.registry import UnknownPlatform

F = TypeVar("F", bound=Callable[..., Any])
JSON_KEY = "hub.json"

# Failures that end a command with a clear one-line message rather than a traceback.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    HubError,
    StartupError,
    ValidationError,
    UnknownPlatform,
    DecryptionError,
)


class CommandFailed(click.ClickException):
    """A command failed: one line on stderr (or JSON on stdout with --json), exit code 1."""

    def __init__(self, message: str, code: str = "failed", data: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.data = data or {}


def json_mode() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().meta.get(JSON_KEY))


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def dumps(data: Any) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, sort_keys=True)


def emit(data: dict[str, Any], text: str | None = None) -> None:
    """Print the result: ``data`` as one JSON line with --json, else ``text`` (if any)."""
    if json_mode():
        click.echo(dumps(data))
    elif text:
        click.echo(text)


def say(text: str) -> None:
    """Progress chatter: shown to humans only, never mixed into --json output."""
    if not json_mode():
        click.echo(text, err=True)


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, CommandFailed):
        return exc.code
    if isinstance(exc, StartupError | DecryptionError):
        return "configuration"
    if isinstance(exc, UnknownPlatform):
        return "not_found"
    if isinstance(getattr(exc, "code", None), str):  # a typed refusal's own code
        return exc.code  # type: ignore[attr-defined]
    return getattr(exc, "error_class", None) or type(exc).__name__


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        fields = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        return "invalid settings: " + "; ".join(f"{k}: {v}" for k, v in fields.items())
    if isinstance(exc, UnknownPlatform):
        return f"unknown platform {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def fail(exc: BaseException) -> CommandFailed:
    """Turn an expected error into a CommandFailed with its code and one-line message."""
    message = " ".join(_error_message(exc).split())
    data = exc.data if isinstance(exc, CommandFailed) else {}
    return CommandFailed(message, _error_code(exc), data)


def _report(exc: CommandFailed) -> None:
    if json_mode():
        click.echo(dumps({"error": {"code": exc.code, "message": exc.message, **exc.data}}))
    else:
        click.echo(f"Error: {exc.message}", err=True)


def hub_command(needs_app: bool = True) -> Callable[[F], F]:
    """Add ``--json``, push the app context (when needed) and report expected errors in one line."""

    def decorate(f: F) -> F:
        @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
        @functools.wraps(f)
        def wrapper(*args: Any, as_json: bool, **kwargs: Any) -> Any:
            ctx = click.get_current_context()
            ctx.find_root().meta[JSON_KEY] = as_json
            try:
                with ExitStack() as stack:
                    if needs_app and not current_app:
                        app = ctx.ensure_object(ScriptInfo).load_app()
                        stack.enter_context(app.app_context())
                    return f(*args, **kwargs)
            except CommandFailed as exc:
                _report(exc)
            except EXPECTED_ERRORS as exc:
                _report(fail(exc))
            ctx.exit(1)

        return wrapper  # type: ignore[return-value]

    return decorate


def warn_without_worker(queue_name: str, alternative: str | None = None) -> bool | None:
    """Say (humans: on stderr) that no worker will take the job just queued; whether one runs,
    or None when Redis cannot tell."""
    from hub.jobs.queues import REDIS_DOWN, no_worker_hint, workers_listening

    try:
        running = workers_listening(queue_name) > 0
    except REDIS_DOWN:
        return None
    if not running:
        hint = f"; {alternative}" if alternative else ""
        say(f"Warning: it stays queued: {no_worker_hint(queue_name)}{hint}.")
    return running
