"""Browser tests: the real app served by werkzeug on 127.0.0.1, a real RQ worker process, the
Youzan sandbox over real HTTP, and Debian's Chromium driven by Playwright (never downloaded)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
YOUZAN = "connectors.youzan.connector:YouzanConnector"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], YOUZAN]}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app on a free loopback port, in a daemon thread."""
    from hub.demo.sandboxes import QuietHandler

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="hub-web", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def worker(app, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """``python -m hub.jobs.worker``: a real RQ worker on the same database and Redis."""
    from hub.demo.environment import worker_env

    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.jobs.worker"],
        cwd=ROOT,
        env=worker_env(app),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log.close()


@pytest.fixture
def youzan_sandbox(app) -> Iterator[object]:
    from hub import registry
    from hub.demo import sandboxes

    running = sandboxes.start(registry.get("youzan", app), seed=5, orders=120)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SHOTS}")
    return SHOTS


@pytest.fixture(scope="package")
def chromium() -> Iterator[object]:
    """One headless Chromium for the browser tests (launching it costs seconds); each test gets
    a context of its own (``page``), as fresh as a new profile. Package-scoped: it stops after
    the last browser test, before the rest of the suite runs."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (never playwright install)"
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium) -> Iterator[object]:
    """A page in a new browser context: no cookies, storage or cache of any other test; no
    network beyond 127.0.0.1 is needed."""
    context = chromium.new_context(viewport={"width": 1360, "height": 860})
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()
