"""``hub serve``: the production web server (waitress), registered in hub.cli.PLUGIN_COMMANDS.

Why waitress: a thread of a threaded or pre-fork server (gunicorn's sync and gthread workers,
werkzeug) reads a request itself, so a client that sends its headers one byte at a time holds
that thread for as long as it likes; eight such clients stopped sign-in and the webhook intake
(issue 20 point 11). Waitress reads every connection in one asynchronous I/O loop and buffers the
request (headers and body) before it hands it to a thread, so slow clients cost a socket each,
never a thread. The connection limit is set far above waitress's 100, which slow clients could
otherwise fill, and the loop uses poll() so that it is not bound by select()'s 1,024 descriptors.

Settings, each an option or a ``HUB_SERVE_*`` variable (the option wins):

- ``--host`` / ``HUB_SERVE_HOST`` (127.0.0.1) and ``--port`` / ``HUB_SERVE_PORT`` (8000);
- ``--threads`` / ``HUB_SERVE_THREADS`` (8): requests handled at once;
- ``--connection-limit`` / ``HUB_SERVE_CONNECTION_LIMIT`` (1000): open connections, slow or
  idle ones included, before the server stops accepting more;
- ``HUB_SERVE_CHANNEL_TIMEOUT`` (60): seconds an idle connection is kept;
- ``--trusted-proxy`` / ``HUB_SERVE_TRUSTED_PROXY`` (none): the address of a reverse proxy whose
  ``X-Forwarded-For``/``-Proto``/``-Host`` headers are believed (e.g. 127.0.0.1 behind nginx).

SIGTERM and Ctrl-C stop accepting, let the requests in hand finish (up to 5 s) and exit 0.
"""

from __future__ import annotations

import gc
import resource
import signal
from typing import Any

import click
from flask import Flask, current_app

from hub.cli_support import CommandFailed, emit, hub_command

# headroom over the request size the app takes, so the app (not waitress) answers a body that
# is too large, in its own error shape
BODY_SLACK = 1024 * 1024


def server_settings(app: Flask, **given: Any) -> dict[str, Any]:
    """waitress's adjustments from the options ``given`` (None: not given) and the app config."""
    config = app.config

    def pick(name: str) -> Any:
        value = given.get(name)
        return value if value is not None else config.get(f"SERVE_{name.upper()}")

    settings: dict[str, Any] = {
        "host": str(pick("host")),
        "port": _number(pick("port"), "port", 0, 65535),
        "threads": _number(pick("threads"), "threads", 1, 256),
        "connection_limit": _number(pick("connection_limit"), "connection limit", 1, 100_000),
        "channel_timeout": _number(pick("channel_timeout"), "channel timeout", 1, 86_400),
        "asyncore_use_poll": True,
        "backlog": 2048,
        "max_request_body_size": int(config.get("MAX_CONTENT_LENGTH") or 0) + BODY_SLACK,
        "ident": "tributary",
    }
    proxy = pick("trusted_proxy")
    if proxy:
        settings.update(
            trusted_proxy=str(proxy),
            trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
        )
    return settings


def _number(value: Any, name: str, low: int, high: int) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise CommandFailed(
            f"the {name} must be a whole number from {low} to {high}, not {value!r}"
        )
    return int(text)


def _raise_file_limit(connections: int) -> None:
    """Each connection is a file descriptor: lift the soft limit towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256  # the database, Redis, logs and uploads besides
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(0)  # waitress's loop ends on it and lets its threads finish


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on [HUB_SERVE_HOST; 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [HUB_SERVE_PORT; 8000].")
@click.option(
    "--threads", type=int, default=None, help="Requests handled at once [HUB_SERVE_THREADS; 8]."
)
@click.option(
    "--connection-limit",
    type=int,
    default=None,
    help="Open connections, slow ones included [HUB_SERVE_CONNECTION_LIMIT; 1000].",
)
@click.option(
    "--trusted-proxy",
    default=None,
    help="A reverse proxy whose X-Forwarded-* headers are believed [HUB_SERVE_TRUSTED_PROXY].",
)
@hub_command()
def serve(
    host: str | None,
    port: int | None,
    threads: int | None,
    connection_limit: int | None,
    trusted_proxy: str | None,
) -> None:
    """Serve the web UI, the API and the webhook intake (waitress: slow clients hold no thread)."""
    from waitress import create_server

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = server_settings(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=connection_limit,
        trusted_proxy=trusted_proxy,
    )
    _raise_file_limit(settings["connection_limit"])
    try:
        server = create_server(app, **settings)
    except OSError as exc:
        raise CommandFailed(
            f"cannot listen on {settings['host']}:{settings['port']}: {exc.strerror or exc}",
            "configuration",
        ) from None
    gc.freeze()  # as wsgi.py: what lives as long as the process stays out of the collector
    signal.signal(signal.SIGTERM, _stop)
    bound_host, bound_port = server.effective_host, server.effective_port  # type: ignore[union-attr]
    emit(
        {"serving": f"http://{bound_host}:{bound_port}", "threads": settings["threads"]},
        f"Serving on http://{bound_host}:{bound_port} with {settings['threads']} threads "
        "(Ctrl-C to stop)",
    )
    server.run()
    emit({"stopped": True}, "Stopped.")
