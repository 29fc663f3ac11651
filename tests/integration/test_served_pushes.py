"""Acknowledged means stored, with the app in a real server process (issue 20.1): a dashboard
view between pushes loses nothing. A second SQLite library in the worker once deleted the WAL
under the worker's own connections, and every later push went into the deleted file.

The loss is SQLite's (two libraries on one file), so the server runs on a SQLite file of the
test's own in both passes of the suite; the rows are counted by other processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ENCRYPTION_KEY
from tests.integration.test_cli_process import ROOT, clean_env, free_port, hub, wait_for_http
from tests.integration.test_webhooks import order_payload
from tests.support.fake_push import ACK, sign
from tests.support.ui import PASSWORD, csrf_token

PUSHES = 20
SECRET = "push-secret-123"
ANALYST = "analyst@example.com"
CONNECTOR = "tests.support.fake_push:FakePushConnector"
# A shop's orders for the dashboard to show, written by a process of its own.
SEED = """
import sys
from hub import create_app
from tests.support.sample_shop import load_sample_shop
from hub.extensions import db
from hub.services.users import get_workspace
with create_app().app_context():
    load_sample_shop(db.session, get_workspace(sys.argv[1]).id, orders=200, customers=40)
"""
# Another process: open the file, count the stored deliveries, close (as any tool would).
COUNT = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
print(con.execute("SELECT count(*) FROM webhook_inbox").fetchone()[0])
con.close()
"""


def count_elsewhere(path: Path) -> int:
    """The stored deliveries, as a process of its own sees them."""
    found = subprocess.run([sys.executable, "-c", COUNT, str(path)], capture_output=True,
                           text=True, check=True, timeout=60)  # fmt: skip
    return int(found.stdout)


@pytest.fixture
def hub_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    return clean_env(
        HUB_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}", HUB_REDIS_URL=redis_url,
        HUB_SECRET_KEY="test-secret-key", HUB_ENCRYPTION_KEY=ENCRYPTION_KEY,
        HUB_CONNECTORS=CONNECTOR, HUB_SECURE_COOKIES="false",
    )  # fmt: skip


@pytest.fixture
def store_id(hub_env: dict[str, str]) -> int:
    """The schema, an analyst, a bound push store and a shop's orders, each written by a
    process of its own: nothing of this process has the file open while the server runs."""
    for args in (
        ["db", "upgrade"],
        ["user", "create", ANALYST, "--workspace", "tea", "--role", "analyst",
         "--password", PASSWORD],
        ["connect", "fakepush", "--workspace", "tea", "--set", "store_id=8001",
         "--set", f"webhook_secret={SECRET}", "--json"],
    ):  # fmt: skip
        done = hub(*args, env=hub_env)
        assert done.returncode == 0, done.stderr
    store = int(json.loads(done.stdout)["id"])
    subprocess.run([sys.executable, "-c", SEED, "tea"], env=hub_env, cwd=ROOT, check=True,
                   timeout=120)  # fmt: skip
    return store


@pytest.fixture
def server(hub_env: dict[str, str], store_id: int, tmp_path: Path) -> Iterator[str]:
    """gunicorn with one worker serving the hub; its base URL."""
    port, log = free_port(), (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=hub_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_for_http(f"{url}/login", proc, timeout=60) == 200
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()


def push(url: str, store_id: int, delivery: str) -> requests.Response:
    body = json.dumps(order_payload(f"T-{delivery}")).encode()
    headers = {"X-Fake-Signature": sign(SECRET, body), "X-Fake-Delivery": delivery}
    return requests.post(f"{url}/webhooks/fakepush/{store_id}", data=body, headers=headers,
                         timeout=30)  # fmt: skip


def view_dashboard(url: str) -> None:
    """Sign in as the analyst (with the form's CSRF token) and open the dashboard."""
    with requests.Session() as browser:
        form = browser.get(f"{url}/login", timeout=30)
        data = {"email": ANALYST, "password": PASSWORD, "csrf_token": csrf_token(form.text)}
        assert browser.post(f"{url}/login", data=data, timeout=30).url == f"{url}/stores"
        page = browser.get(f"{url}/dashboard", timeout=120)
        assert page.status_code == 200 and "Revenue over time" in page.text


def test_every_acknowledged_push_is_stored_after_a_dashboard_view(
    server: str, store_id: int, tmp_path: Path
) -> None:
    assert push(server, store_id, "before").text == ACK
    view_dashboard(server)
    assert count_elsewhere(tmp_path / "served.db") == 1  # another process opens and closes it
    for n in range(PUSHES):
        answer = push(server, store_id, f"after-{n}")
        assert (answer.status_code, answer.text) == (200, ACK)
    assert count_elsewhere(tmp_path / "served.db") == PUSHES + 1
