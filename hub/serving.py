"""``hub serve``: the production web server (waitress), registered in hub.cli.PLUGIN_COMMANDS.

Why waitress: a thread of a threaded or pre-fork server (gunicorn's sync and gthread workers,
werkzeug) reads a request itself, so a client that sends its headers one byte at a time holds
that thread for as long as it likes; eight such clients stopped sign-in and the webhook intake
(issue 20 point 11). Waitress reads every connection in one asynchronous I/O loop and buffers the
request (headers and body) before it hands it to a thread, so slow clients cost a socket each,
never a thread. The connection limit is set far above waitress's 100, which slow clients could
otherwise fill, and the loop uses poll() so that it is not bound by select()'s 1,024 descriptors.
One process runs Python on one core: ``hub serve`` starts several (``--workers``) that share one
listening socket, each with its own I/O loop and threads, and starts again one that dies.

Settings, each an option or a ``HUB_SERVE_*`` variable (the option wins):

- ``--host`` / ``HUB_SERVE_HOST`` (127.0.0.1) and ``--port`` / ``HUB_SERVE_PORT`` (8000);
- ``--workers`` / ``HUB_SERVE_WORKERS`` (2): server processes (1: serve in this process);
- ``--threads`` / ``HUB_SERVE_THREADS`` (4): requests each process handles at once;
- ``--connection-limit`` / ``HUB_SERVE_CONNECTION_LIMIT`` (1000): open connections per process,
  slow or idle ones included, before it stops accepting more;
- ``HUB_SERVE_CHANNEL_TIMEOUT`` (60): seconds an idle connection is kept;
- ``--trusted-proxy`` / ``HUB_SERVE_TRUSTED_PROXY`` (none): the address of a reverse proxy whose
  ``X-Forwarded-For``/``-Proto``/``-Host`` headers are believed (e.g. 127.0.0.1 behind nginx).

SIGTERM and Ctrl-C stop accepting, let the requests in hand finish (up to 5 s) and exit 0.
"""

from __future__ import annotations

import gc
import resource
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import click
from flask import Flask, current_app

from hub.cli_support import CommandFailed, emit, hub_command, say

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
@click.option("--workers", type=int, default=None, help="Server processes [HUB_SERVE_WORKERS; 2].")
@click.option(
    "--threads",
    type=int,
    default=None,
    help="Requests each process handles at once [HUB_SERVE_THREADS; 4].",
)
@click.option(
    "--connection-limit",
    type=int,
    default=None,
    help="Open connections per process, slow ones included [HUB_SERVE_CONNECTION_LIMIT; 1000].",
)
@click.option(
    "--trusted-proxy",
    default=None,
    help="A reverse proxy whose X-Forwarded-* headers are believed [HUB_SERVE_TRUSTED_PROXY].",
)
@click.option("--listen-fd", type=int, default=None, hidden=True)  # a worker of a supervisor
@hub_command()
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    connection_limit: int | None,
    trusted_proxy: str | None,
    listen_fd: int | None,
) -> None:
    """Serve the web UI, the API and the webhook intake (waitress: slow clients hold no thread)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = server_settings(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=connection_limit,
        trusted_proxy=trusted_proxy,
    )
    count = _number(
        workers if workers is not None else app.config.get("SERVE_WORKERS"), "workers", 1, 64
    )
    _raise_file_limit(settings["connection_limit"])
    if listen_fd is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the supervisor: it stops us
        _serve_here(app, settings, socket.socket(fileno=listen_fd), quiet=True)
    elif count == 1:
        _serve_here(app, settings, _listen(settings), quiet=False)
    else:
        Supervisor(settings, count).run()


def _listen(settings: dict[str, Any]) -> socket.socket:
    host, port = settings["host"], settings["port"]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=settings["backlog"])
    except OSError as exc:
        raise CommandFailed(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", "configuration"
        ) from None


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serve_here(app: Flask, settings: dict[str, Any], sock: socket.socket, *, quiet: bool) -> None:
    """Serve on ``sock`` in this process until SIGTERM or Ctrl-C."""
    from waitress import create_server

    adjustments = {k: v for k, v in settings.items() if k not in ("host", "port")}
    server = create_server(app, sockets=[sock], **adjustments)
    gc.freeze()  # as wsgi.py: what lives as long as the process stays out of the collector
    signal.signal(signal.SIGTERM, _stop)
    if not quiet:
        emit(
            {"serving": _url(sock), "workers": 1, "threads": settings["threads"]},
            f"Serving on {_url(sock)} with {settings['threads']} threads (Ctrl-C to stop)",
        )
    server.run()
    if not quiet:
        emit({"stopped": True}, "Stopped.")


class Supervisor:
    """``count`` processes of ``hub serve --listen-fd`` sharing one listening socket (each
    accepts from it in its own I/O loop: all cores serve); one that dies is started again, and
    SIGTERM or Ctrl-C stops them all, letting their requests in hand finish."""

    RESTART_PAUSE = 1.0  # seconds before starting again a process that died young
    YOUNG = 10.0  # a process that ended within this many seconds of its start died young
    MAX_YOUNG_DEATHS = 3  # in a row: the processes cannot start, give up
    STOP_SECONDS = 20.0

    def __init__(self, settings: dict[str, Any], count: int) -> None:
        self.settings = settings
        self.count = count
        self.sock = _listen(settings)
        self.sock.set_inheritable(True)
        self.stopping = False
        self.young_deaths = 0

    def command(self) -> list[str]:
        s = self.settings
        cmd = [sys.executable, "-c", "from hub.cli import main; main()", "serve",
               "--listen-fd", str(self.sock.fileno()), "--threads", str(s["threads"]),
               "--connection-limit", str(s["connection_limit"])]  # fmt: skip
        if s.get("trusted_proxy"):
            cmd += ["--trusted-proxy", s["trusted_proxy"]]
        return cmd

    def spawn(self) -> tuple[subprocess.Popen, float]:
        proc = subprocess.Popen(self.command(), pass_fds=(self.sock.fileno(),))
        return proc, time.monotonic()

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        procs = [self.spawn() for _ in range(self.count)]
        url, threads = _url(self.sock), self.settings["threads"]
        emit(
            {"serving": url, "workers": self.count, "threads": threads},
            f"Serving on {url} with {self.count} processes of {threads} threads (Ctrl-C to stop)",
        )
        try:
            while not self.stopping:
                time.sleep(0.2)
                for i, (proc, started) in enumerate(procs):
                    if proc.poll() is None or self.stopping:
                        continue
                    procs[i] = self._replace(proc, started)
        finally:
            self._stop_all([proc for proc, _ in procs])
            self.sock.close()
        emit({"stopped": True}, "Stopped.")

    def _replace(self, proc: subprocess.Popen, started: float) -> tuple[subprocess.Popen, float]:
        young = time.monotonic() - started < self.YOUNG
        self.young_deaths = self.young_deaths + 1 if young else 0
        if self.young_deaths >= self.MAX_YOUNG_DEATHS:
            raise CommandFailed(
                f"the server processes keep ending at start (last exit code {proc.returncode})"
            )
        say(f"server process {proc.pid} ended with exit code {proc.returncode}; starting another")
        if young:
            time.sleep(self.RESTART_PAUSE)
        return self.spawn()

    def _stop_all(self, procs: list[subprocess.Popen]) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.STOP_SECONDS
        for proc in procs:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
