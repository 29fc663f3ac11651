"""`hub demo`: sandboxes, a worker, bound demo stores, syncs, then the web UI (or a summary)."""

from __future__ import annotations

import importlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from hub import registry
from hub.cli_support import CommandFailed, emit, say
from hub.demo import sandboxes, stores, summary
from hub.demo.environment import WorkerProcess, demo_app, stop_embedded_redis
from hub.extensions import db, redis_connection

# Further demo steps (e.g. importing the sample spreadsheets): dotted "module:function" names;
# each is called in the app context as ``step(workspace_id) -> dict`` and its dict lands in the
# summary ("name", "status" and, if rows failed, "failed_rows").
DEMO_STEPS: list[str] = ["hub.demo.samples:import_samples"]


@dataclass
class DemoOptions:
    once: bool = False
    port: int = 5000
    directory: str | None = None
    orders: int = 200
    timeout: float = 600
    seed: int = 1


@dataclass
class DemoState:
    """What the set-up made: the workspace, the admin login, (connection, run) ids, steps."""

    workspace_id: int
    login: tuple[str, str]
    pairs: list[tuple[int, int]]
    steps: list[dict[str, Any]]


def run_demo(opts: DemoOptions) -> None:
    """Set everything up; then serve the UI until Ctrl-C, or (``once``) print a summary."""
    app = demo_app(opts.directory)
    with ExitStack() as stack:
        stack.enter_context(_stop_requests_interrupt())
        with app.app_context():
            import flask_migrate

            flask_migrate.upgrade()
            redis_connection(app)  # starts the embedded redis-server unless HUB_REDIS_URL
            stack.callback(stop_embedded_redis, app)  # runs last: after the worker stops
            # the sandboxes stop after the worker too: a job it finishes may still call them
            sandbox_stack = stack.enter_context(ExitStack())
            worker = WorkerProcess(app)
            stack.callback(worker.stop)
            state = _prepare(app, opts, sandbox_stack, worker)
            if opts.once:
                _finish_once(state)
                return
        _serve(app, opts.port, state)


# What a supervisor, `kill` or a closed terminal sends. Python's default for them ends the process
# on the spot, which would leave the worker and the embedded redis-server running.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def _stop_requests_interrupt() -> Iterator[None]:
    """Make SIGTERM and SIGHUP stop the demo as Ctrl-C does: cleanly, with nothing left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers: an embedding caller keeps its own
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _prepare(app: Flask, opts: DemoOptions, stack: ExitStack, worker: WorkerProcess) -> DemoState:
    """Bind every sandbox store to the demo workspace, sync it, run the extra steps."""
    ws = stores.demo_workspace()
    email, password = stores.admin_login(ws)
    pairs = []
    connectors = sandboxes.with_sandbox(registry.connectors(app))
    if not connectors:
        say("No registered connector has a sandbox (HUB_CONNECTORS); nothing to sync yet.")
    for cls in connectors:
        sandbox = sandboxes.start(cls, opts.seed, opts.orders, sandbox_epoch(app))
        stack.callback(sandbox.stop)
        say(f"{cls.display_name} sandbox at {sandbox.base_url}")
        conn = stores.bind_sandbox(ws, sandbox, cls.display_name)
        run = _first_run(ws.id, conn.id, cls)
        db.session.commit()
        pairs.append((conn.id, run.id))
    steps = [_call_step(name, ws.id) for name in DEMO_STEPS]
    if opts.once:
        _wait(pairs, worker, opts.timeout)
    return DemoState(ws.id, (email, password), pairs, steps)


def _first_run(workspace_id: int, connection_id: int, cls: Any) -> Any:
    """A store the hub can migrate from is migrated (W3), else synced; a run already under
    way (an automatic sync that started first) is joined."""
    from hub.core.errors import Conflict
    from hub.services.migration import request_migration
    from hub.sync.service import request_sync

    if "migrate" in cls.capabilities:
        try:
            return request_migration(workspace_id, connection_id)
        except Conflict:
            pass
    return request_sync(workspace_id, connection_id, full=False, trigger="manual")


def sandbox_epoch(app: Flask) -> int:
    """The sandboxes' "now", fixed on the first demo run in this folder and kept there."""
    path = Path(app.instance_path) / "demo-sandbox-epoch"
    if not path.exists():
        path.write_text(str(int(time.time())))
    return int(path.read_text().strip())


def _call_step(dotted: str, workspace_id: int) -> dict[str, Any]:
    module_name, _, attr = dotted.partition(":")
    step: Callable[[int], dict[str, Any]] = getattr(importlib.import_module(module_name), attr)
    return {"name": dotted, **step(workspace_id)}


def _wait(pairs: list[tuple[int, int]], worker: WorkerProcess, timeout: float) -> None:
    """Poll the runs' rows until all have finished; fail clearly if the worker dies."""
    from hub.models import SyncRun

    deadline = time.monotonic() + timeout
    pending = {run_id for _, run_id in pairs}
    while pending:
        db.session.expire_all()
        done = {r for r in pending if db.session.get(SyncRun, r).status in SyncRun.FINISHED}
        pending -= done
        if pending and not worker.alive():
            raise CommandFailed(f"the demo worker stopped:\n{worker.tail()}", "worker_died")
        if pending and time.monotonic() > deadline:
            raise CommandFailed(f"syncs {sorted(pending)} unfinished after {timeout:g}s", "timeout")
        if pending:
            time.sleep(0.5)


def _stores(state: DemoState) -> list[tuple[Any, Any]]:
    from hub.models import Connection, SyncRun

    db.session.expire_all()
    return [(db.session.get(Connection, c), db.session.get(SyncRun, r)) for c, r in state.pairs]


def _finish_once(state: DemoState) -> None:
    data = summary.summarise(state.workspace_id, _stores(state), state.steps)
    if data["failed_syncs"]:
        say(summary.as_text(data))
        raise CommandFailed(f"{data['failed_syncs']} demo sync(s) failed", "sync_failed", data)
    emit(data, summary.as_text(data))


def _serve(app: Flask, port: int, state: DemoState) -> None:
    from werkzeug.serving import run_simple

    email, password = state.login
    url = f"http://127.0.0.1:{port}/"
    emit(
        {"url": url, "email": email, "password": password},
        f"\nTributary demo at {url}\nLog in as {email} / {password}\n(Ctrl-C to stop)",
    )
    run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)  # returns on Ctrl-C
    say("Stopping the demo.")
