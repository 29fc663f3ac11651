"""Real processes for the durability tests: ``hub worker`` processes and the web app under
gunicorn (started, SIGKILLed with everything they forked), and a redis-server of the test's own
that can be stopped and started again, empty, on the same port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from hub.processes import session_members
from tests.conftest import ENCRYPTION_KEY

ROOT = Path(__file__).resolve().parents[2]
HUB = str(Path(sys.executable).parent / "hub")  # the console script, as operators run it
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def kill_all(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and all it forked: the whole session it was started in (a work
    horse has a process group of its own, not a session)."""
    for pid in session_members(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(10)


class Workers:
    """The worker processes of one test, each logging to ``<folder>/<name>.log``; whatever
    still runs at ``close()`` is killed. ``settings`` become ``HUB_*`` variables."""

    def __init__(self, folder: Path, database_url: str, redis_url: str, **settings: Any) -> None:
        self.folder = folder
        self.procs: list[subprocess.Popen] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        self.env.update(
            HUB_DATABASE_URL=database_url,
            HUB_REDIS_URL=redis_url,
            HUB_SECRET_KEY="test-secret-key",
            HUB_ENCRYPTION_KEY=ENCRYPTION_KEY,
            PYTHONPATH=str(ROOT),
        )
        self.env.update({f"HUB_{key}": str(value) for key, value in settings.items()})

    def start(self, name: str, *queues: str) -> subprocess.Popen:
        """``hub worker`` (on ``queues``, default all of them) in a session of its own."""
        command = [HUB, "worker", *(["--queues", ",".join(queues)] if queues else [])]
        with (self.folder / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL,
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.procs.append(proc)
        return proc

    def serve(self, name: str) -> str:
        """The web app under gunicorn (one process, a few threads) on a free loopback port,
        with the workers' settings; returns its base URL once it answers."""
        port = free_port()
        command = [GUNICORN, "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}",
                   "wsgi:app"]  # fmt: skip
        env = {**self.env, "HUB_SECURE_COOKIES": "false"}  # plain http on loopback
        with (self.folder / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, cwd=ROOT, env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: proc.poll() is not None or _answers(url), 30, "the web server")
        assert proc.poll() is None, self.log(name)
        return url

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def close(self) -> None:
        alive = [proc for proc in self.procs if proc.poll() is None]
        for proc in alive:  # a worker writes its threads' stacks to its log (faulthandler)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGUSR1)
        if alive:
            time.sleep(0.3)
        for proc in alive:
            kill_all(proc)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/login", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server on a free loopback port that keeps nothing on disk: stopped and started
    again, it comes back without its data, as a Redis restarted without persistence does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = Redis(port=self.port)
        wait_for(lambda: self._answers(client), 10, "redis-server to answer")
        client.close()

    def stop(self) -> None:
        """SIGTERM: redis-server shuts down (saving nothing) and the port is closed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    @staticmethod
    def _answers(client: Redis) -> bool:
        try:
            return bool(client.ping())
        except RedisConnectionError:
            return False
