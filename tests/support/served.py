"""Real processes for end-to-end tests: a redis-server of the test's own (stopped and started
again without its data), the hub served by a production HTTP server, and `hub worker`s.

Every process is started in a session of its own and ``stop_all`` SIGKILLs every member of
each session, so a failing test leaves nothing running."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from hub.processes import session_members

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HUB = str(BIN / "hub")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def server_command(port: int) -> list[str]:
    """The production serving command: gunicorn on ``wsgi:app``, one worker process with
    threads (the shape the data-loss probe of issue 20 used). Switch to ``hub serve`` here."""
    return [
        str(BIN / "gunicorn"), "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--graceful-timeout", "5", "wsgi:app",
    ]  # fmt: skip


class Processes:
    """The processes a test starts: each with its log file under ``logs``."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        try:
            proc = subprocess.Popen(
                argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        finally:
            log.close()
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        """SIGKILL the process and all of its session (an RQ worker's scheduler and work horse)."""
        proc = self.procs[name]
        for pid in [proc.pid, *session_members(proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)
        wait_for(lambda: not session_members(proc.pid), 10, f"the session of {name} to end")

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tail(self, lines: int = 12) -> str:
        """The end of every log, for assertion messages."""
        return "\n".join(
            f"--- {name} (exit {proc.poll()}):\n" + "\n".join(self.log(name).splitlines()[-lines:])
            for name, proc in self.procs.items()
        )

    def stop_all(self) -> None:
        for name, proc in reversed(self.procs.items()):  # Redis last
            if proc.poll() is None or session_members(proc.pid):
                with contextlib.suppress(Exception):
                    self.kill(name)


class RedisServer:
    """A redis-server on ``port`` that keeps nothing on disk: a restart loses all its data."""

    def __init__(self, processes: Processes, port: int, workdir: Path) -> None:
        self.processes, self.port, self.workdir = processes, port, workdir
        self.url = f"redis://127.0.0.1:{port}/0"
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.processes.start(
            f"redis-{self.starts}",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--daemonize", "no"],
        )  # fmt: skip
        wait_for(self.answers, 20, f"redis-server on port {self.port}")

    def stop(self) -> None:
        """SIGKILL: an outage, with nothing saved."""
        self.processes.kill(f"redis-{self.starts}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args: str) -> bytes:
        """One command over a raw connection (RESP); the first line of the reply."""
        payload = f"*{len(args)}\r\n".encode() + b"".join(
            f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args
        )
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(payload)
            return s.recv(256).split(b"\r\n")[0]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> int:
    """The first HTTP status ``url`` answers with, while ``proc`` keeps running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server process exited early ({proc.returncode})"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")
