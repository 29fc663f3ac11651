"""``hub serve`` (issue 20 point 11): the real command in its own process keeps the webhook
intake and sign-in answering while 100 clients hold connections open, sending their headers a
byte at a time. Under gunicorn's sync workers (and werkzeug) 8 such clients were enough to make
pushes and sign-in time out: bench/slow_clients.py runs this same check against them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from hub.extensions import db
from hub.models import WebhookDelivery
from hub.services import connections
from hub.serving import server_settings
from tests.conftest import ENCRYPTION_KEY
from tests.integration.test_cli_process import HUB, ROOT, clean_env, free_port, wait_for_http
from tests.integration.test_webhooks import order_payload
from tests.support.fake_push import ACK, sign
from tests.support.slow_clients import SlowClients
from tests.support.ui import PASSWORD, make_user

PUSH = "tests.support.fake_push:FakePushConnector"
SECRET = "push-secret-123"
SLOW_CLIENTS = 100
ANSWER_WITHIN = 2.0  # seconds


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], PUSH]}


@pytest.fixture
def store(workspace):
    settings = {"store_id": "8001", "webhook_secret": SECRET}
    return connections.bind(workspace.id, "fakepush", settings)


@pytest.fixture(params=[[], ["--workers", "1"]], ids=["2-processes", "1-process"])
def served(app: Flask, store, tmp_path: Path, request) -> Iterator[tuple[str, subprocess.Popen]]:
    """``hub serve`` on a free port (from HUB_SERVE_PORT) with 3 threads each, in 2 processes (the
    default) or in its own, on the tests' database and Redis; killed afterwards if still up."""
    port = free_port()
    env = clean_env(
        HUB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        HUB_REDIS_URL=app.config["REDIS_URL"],
        HUB_SECRET_KEY="test-secret-key",
        HUB_ENCRYPTION_KEY=ENCRYPTION_KEY,
        HUB_CONNECTORS=",".join(app.config["CONNECTORS"]),
        HUB_SECURE_COOKIES="false",  # plain http on the loopback
        HUB_SERVE_PORT=str(port),
    )
    db.session.commit()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [HUB, "serve", "--host", "127.0.0.1", "--threads", "3", *request.param], env=env, cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_for_http(f"{url}/login", proc, timeout=60) == 200
        yield url, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def signed_push(url: str, store, delivery: str) -> requests.Response:
    body = json.dumps(order_payload(f"T-{delivery}")).encode()
    headers = {"X-Fake-Signature": sign(SECRET, body), "X-Fake-Delivery": delivery}
    return requests.post(f"{url}/webhooks/fakepush/{store.id}", data=body, headers=headers,
                         timeout=10)  # fmt: skip


def timed(call, *args, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


def test_pushes_and_sign_in_answer_while_100_slow_clients_hold_connections(
    served, store, workspace
):
    url, proc = served
    make_user(workspace, "admin@acme.test")
    db.session.commit()
    with SlowClients("127.0.0.1", int(url.rsplit(":", 1)[1]), count=SLOW_CLIENTS) as slow:
        assert slow.open_count() == SLOW_CLIENTS  # all accepted, none answered: they are slow
        for n in range(3):
            answer, took = timed(signed_push, url, store, f"slow-{n}")
            assert (answer.status_code, answer.text) == (200, ACK)
            assert took < ANSWER_WITHIN, f"push {n} took {took:.2f}s"
        browser = requests.Session()
        page, took = timed(browser.get, f"{url}/login", timeout=10)
        assert page.status_code == 200 and took < ANSWER_WITHIN, took
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        form = {"email": "admin@acme.test", "password": PASSWORD, "csrf_token": token}
        signed_in, took = timed(browser.post, f"{url}/login", data=form, allow_redirects=False,
                                timeout=10)  # fmt: skip
        assert signed_in.status_code == 302 and took < ANSWER_WITHIN, (signed_in.text, took)
        assert browser.get(f"{url}/customers", timeout=10).status_code == 200  # signed in
        assert slow.open_count() == SLOW_CLIENTS  # still held open, still not answered
    db.session.expire_all()
    stored = {d.delivery_id for d in db.session.query(WebhookDelivery)}
    assert stored == {"slow-0", "slow-1", "slow-2"}  # acknowledged = stored
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0  # SIGTERM stops it cleanly


def children(pid: int) -> set[int]:
    return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


@pytest.mark.parametrize("served", [["--workers", "2"]], indirect=True, ids=["2-processes"])
def test_a_server_process_that_dies_is_started_again(served, store):
    url, proc = served
    first = children(proc.pid)
    assert len(first) == 2
    os.kill(min(first), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while len(now := children(proc.pid)) < 2 or min(first) in now:
        assert time.monotonic() < deadline, f"no new server process: {now}"
        time.sleep(0.2)
    for n in range(4):  # pushes are answered while and after it starts again
        answer = signed_push(url, store, f"after-{n}")
        assert (answer.status_code, answer.text) == (200, ACK)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in now)  # it stopped its processes


def test_options_beat_the_environment_and_bad_values_are_refused(app: Flask):
    app.config.update(SERVE_PORT=9000, SERVE_THREADS="6", SERVE_TRUSTED_PROXY="127.0.0.1")
    settings = server_settings(app, port=9100, threads=None)
    assert (settings["port"], settings["threads"], settings["host"]) == (9100, 6, "127.0.0.1")
    assert settings["connection_limit"] == 1000 > 100  # waitress's own 100 slow clients fill
    assert settings["asyncore_use_poll"] is True
    assert settings["trusted_proxy"] == "127.0.0.1"
    assert "x-forwarded-proto" in settings["trusted_proxy_headers"]
    assert settings["max_request_body_size"] > app.config["MAX_CONTENT_LENGTH"]
    from hub.cli_support import CommandFailed

    for bad in ("0", "²", "-1", "many"):
        with pytest.raises(CommandFailed, match="threads must be a whole number from 1 to 256"):
            server_settings(app, threads=bad)
