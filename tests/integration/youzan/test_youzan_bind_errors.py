"""Issue 22 (7): a bind made while a person waits, against an address that is not the store's
API: a non-JSON answer, a closed port, a blackholed address. Every call has the short timeout
HUB_PLATFORM_WEB_TIMEOUT, the message is plain (and translatable), the API answers 502/504 with
the same message, and the form keeps what was typed, the secret included (never in clear)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from connectors.youzan.sandbox import demo_bind_config
from connectors.youzan.sandbox_data import CLIENT_SECRET, KDT_ID
from hub import crypto
from hub.extensions import db
from hub.models import Connection
from hub.services import tokens
from tests.support.listeners import ScriptedServer
from tests.support.ui import login, make_user

TIMEOUT = 2


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "PLATFORM_WEB_TIMEOUT": TIMEOUT}


@pytest.fixture
def admin(client, workspace):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    return client


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}


@pytest.fixture
def not_json() -> Iterator[str]:
    server = ScriptedServer("127.0.0.1", headers={"Content-Type": "text/html"},
                            body=b"<html>Welcome to nginx!</html>")  # fmt: skip
    yield server.url
    server.stop()


@pytest.fixture
def blackholed() -> Iterator[str]:
    """An address whose connections are never accepted: a listener with a full backlog drops
    every new SYN, as a firewall that blackholes the port does."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    for sock in [*fillers, listener]:
        sock.close()


def form_values(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="([a-z_]+)" id="f_[a-z_]+" value="([^"]*)"', page))


def test_a_non_json_answer_keeps_the_form_and_says_so_plainly(admin, not_json, sandbox) -> None:
    data = {**demo_bind_config(not_json), "kdt_id": KDT_ID, "initial_days": "30"}
    page = admin.post("/stores/bind/youzan", data=data)
    assert page.status_code == 200
    host = not_json.removeprefix("http://")
    assert (f"The store&#39;s address ({host}) answered something that is not the "
            "platform&#39;s API: check the address.") in page.text  # fmt: skip
    kept = form_values(page.text)
    assert (kept["api_base"], kept["kdt_id"], kept["initial_days"]) == (not_json, KDT_ID, "30")
    assert kept["client_secret"] == crypto.MASK and CLIENT_SECRET not in page.text
    # corrected address, the secret left as the dots: the one typed first is used
    token = re.search(r'name="kept_secrets" value="([^"]+)"', page.text).group(1)
    again = {**data, "api_base": sandbox.url, "client_secret": crypto.MASK, "kept_secrets": token,
             "sync_mode": "manual"}  # fmt: skip
    assert admin.post("/stores/bind/youzan", data=again).status_code == 302
    conn = db.session.scalar(select(Connection))
    assert crypto.decrypt_json(conn.credentials_enc)["client_secret"] == CLIENT_SECRET


def test_a_kept_secret_serves_only_its_own_user(admin, client, workspace, not_json) -> None:
    page = admin.post("/stores/bind/youzan", data=demo_bind_config(not_json))
    token = re.search(r'name="kept_secrets" value="([^"]+)"', page.text).group(1)
    client.post("/logout")
    make_user(workspace, "other@acme.test")
    login(client, "other@acme.test")
    data = {**demo_bind_config(not_json), "client_secret": crypto.MASK, "kept_secrets": token}
    page = client.post("/stores/bind/youzan", data=data)
    assert 'name="kept_secrets"' not in page.text  # the mask alone is no secret to keep


def test_a_blackholed_address_fails_within_the_setting(admin, auth, blackholed) -> None:
    started = time.monotonic()
    page = admin.post("/stores/bind/youzan", data=demo_bind_config(blackholed))
    assert time.monotonic() - started < TIMEOUT + 2  # main: about 62 s, then "ConnectionError"
    host = blackholed.removeprefix("http://")
    message = (
        f"The store's API did not answer within {TIMEOUT} seconds: check the address ({host})."
    )
    assert message.replace("'", "&#39;") in page.text
    started = time.monotonic()
    body = {"platform": "youzan", "settings": demo_bind_config(blackholed)}
    resp = admin.post("/api/v1/connections", headers=auth, json=body)
    assert time.monotonic() - started < TIMEOUT + 2
    assert resp.status_code == 504
    error = resp.get_json()["error"]
    assert (error["code"], error["message"], error["field"]) == (
        "platform_timeout",
        message,
        "api_base",
    )


def test_a_closed_port_and_a_non_json_answer_are_bad_gateways(auth, client, unused_port,
                                                              not_json) -> None:  # fmt: skip
    for base, code in ((f"http://127.0.0.1:{unused_port}", "platform_unreachable"),
                       (not_json, "platform_bad_answer")):  # fmt: skip
        body = {"platform": "youzan", "settings": demo_bind_config(base)}
        resp = client.post("/api/v1/connections", headers=auth, json=body)
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (502, code)
    assert db.session.scalar(select(Connection)) is None
