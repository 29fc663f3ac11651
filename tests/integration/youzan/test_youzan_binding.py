"""Binding a Youzan store (issue 20): SSRF through api_base and store squatting.

Outside the demo and the tests, api_base must be https on a public address; a bind made while
a person waits fails fast; what a server answered is summarised, never echoed. A store id is
claimed across workspaces only when the official API vouches for it; any other base is keyed
apart. "The official Youzan" is a local sandbox here, through OFFICIAL_API_BASES, a setting
honoured only under TESTING (see test_the_official_stand_in_is_honoured_only_in_tests)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import flask_migrate
import pytest
from sqlalchemy import select, text

from connectors.sandbox_serving import serve
from connectors.youzan.sandbox import create_app as create_sandbox
from connectors.youzan.sandbox import demo_bind_config
from connectors.youzan.sandbox_data import KDT_ID
from hub import config
from hub.core.errors import AlreadyBound, ConfigError, ValidationFailed
from hub.extensions import db
from hub.models import Connection, Workspace
from hub.services import connections, tokens
from hub.sync.http import INTERACTIVE
from hub.sync.runtime import official_bases
from tests.conftest import ENCRYPTION_KEY
from tests.integration.test_cli_process import clean_env
from tests.integration.test_cli_process import hub as run_hub
from tests.integration.youzan.conftest import YOUZAN
from tests.support.listeners import Recorder, ScriptedServer
from tests.support.ui import login, make_user

CLAIMS_REVISION = "4823504394dc"  # store claims keyed by api_base


@pytest.fixture
def official() -> Iterator[str]:
    """A sandbox standing in for https://open.youzanyun.com."""
    running = serve(create_sandbox(seed=3, orders=5))
    yield running.url
    running.stop()


@pytest.fixture
def squatter() -> Iterator[str]:
    """A server of a squatter's own that grants a token for any credentials it likes."""
    running = serve(create_sandbox(seed=4, orders=5))
    yield running.url
    running.stop()


@pytest.fixture
def app_config(app_config: dict, official: str) -> dict:
    return {**app_config, "OFFICIAL_API_BASES": {"youzan": official}}


@pytest.fixture
def public_only(app) -> None:
    """As in production: HUB_ALLOW_PRIVATE_PLATFORMS unset."""
    app.config["ALLOW_PRIVATE_PLATFORMS"] = False


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    running = Recorder("127.0.0.1")
    yield running
    running.stop()


def workspace_named(slug: str) -> Workspace:
    ws = Workspace(name=slug.title(), slug=slug)
    db.session.add(ws)
    db.session.commit()
    return ws


def bind(ws: Workspace, base: str, **over) -> Connection:
    return connections.bind(ws.id, "youzan", {**demo_bind_config(base), **over})


# ---------------------------------------------------------------------- store squatting
def test_a_store_bound_through_a_custom_base_never_blocks_the_real_owner(
    workspace, other_workspace, official, squatter
):
    """The issue's scenario: workspace B binds the store through its own token server."""
    squatted = bind(other_workspace, squatter)
    assert squatted.bound_key == f"{KDT_ID}@{squatter}"
    owned = bind(workspace, official)
    assert (owned.external_id, owned.bound_key) == (KDT_ID, KDT_ID)
    assert bind(workspace_named("third"), squatter.replace("127.0.0.1", "localhost")).bound_key
    with pytest.raises(AlreadyBound, match=f"store {KDT_ID} is already bound to another"):
        bind(workspace_named("fourth"), official)


def test_the_real_store_is_bound_to_one_workspace_at_a_time(workspace, other_workspace, official):
    owned = bind(workspace, official)
    with pytest.raises(AlreadyBound, match="unbind it there first"):
        bind(other_workspace, official)
    with pytest.raises(AlreadyBound, match=f"this workspace \\(store #{owned.id}\\)"):
        bind(workspace, official)
    connections.unbind(workspace.id, owned.id)
    assert bind(other_workspace, official).bound_key == KDT_ID


def test_an_official_token_for_another_store_is_refused(workspace, official):
    import requests

    requests.post(f"{official}/_sandbox/faults", json={"authority_id": "91000009"}, timeout=10)
    with pytest.raises(ValidationFailed) as err:
        bind(workspace, official)
    assert err.value.field == "kdt_id"
    assert str(err.value) == (
        f"kdt_id: Youzan's token answer is for store 91000009 (authority_id), "
        f"not for store {KDT_ID}"
    )
    assert db.session.query(Connection).count() == 0


def test_new_credentials_on_another_base_move_the_claim(
    workspace, other_workspace, official, squatter
):
    custom = bind(other_workspace, squatter)
    bind(workspace, official)
    with pytest.raises(AlreadyBound, match="already bound to another workspace"):
        connections.update_credentials(other_workspace.id, custom.id, {"api_base": official})
    db.session.rollback()
    moved = connections.update_credentials(
        other_workspace.id, custom.id, {"api_base": squatter.replace("127.0.0.1", "localhost")}
    )
    assert moved.bound_key == f"{KDT_ID}@{squatter.replace('127.0.0.1', 'localhost')}"


def test_the_official_stand_in_is_honoured_only_in_tests():
    stand_in = {"youzan": "http://127.0.0.1:1"}
    assert official_bases({"TESTING": True, "OFFICIAL_API_BASES": stand_in}) == stand_in
    assert official_bases({"OFFICIAL_API_BASES": stand_in}) == {}
    from_env = config.from_environment(
        {"HUB_TESTING": "true", "HUB_OFFICIAL_API_BASES": '{"youzan": "http://127.0.0.1:1"}'}
    )
    assert official_bases(from_env) == {}  # the environment only gives a string


# ---------------------------------------------------------------------- SSRF through api_base
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0"])
def test_a_private_api_base_is_refused_and_gets_nothing(workspace, public_only, recorder, host):
    with pytest.raises(ValidationFailed) as err:
        bind(workspace, f"https://{host}:{recorder.port}")
    assert err.value.field == "api_base"
    assert str(err.value).startswith("API base URL: ")
    assert "the hub connects to platforms on public addresses only" in str(err.value)
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")
    assert db.session.query(Connection).count() == 0


def test_ipv6_loopback_api_base_is_refused_and_gets_nothing(workspace, public_only):
    recorder = Recorder("::1")
    try:
        with pytest.raises(ValidationFailed, match=r"^API base URL: ::1 is a loopback address"):
            bind(workspace, f"https://[::1]:{recorder.port}")
    finally:
        recorder.stop()
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_plain_http_api_base_is_refused_without_the_flag(workspace, public_only, recorder):
    with pytest.raises(
        ValidationFailed, match="^API base URL: enter an address starting with https://"
    ) as err:
        bind(workspace, f"http://127.0.0.1:{recorder.port}")
    assert err.value.field == "api_base"
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}


def api_bind(client, auth, base: str):
    body = {"platform": "youzan", "settings": demo_bind_config(base)}
    return client.post("/api/v1/connections", headers=auth, json=body)


def test_api_bind_to_a_private_address_names_api_base(client, auth, public_only, recorder):
    resp = api_bind(client, auth, f"https://2130706433:{recorder.port}")
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert (error["code"], error["field"]) == ("validation_failed", "api_base")
    assert error["message"] == (
        "API base URL: 127.0.0.1 is a loopback address; "
        "the hub connects to platforms on public addresses only"
    )
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_a_redirect_is_not_followed_with_the_secret(client, auth, recorder):
    location = {"Location": f"http://127.0.0.1:{recorder.port}/x"}
    server = ScriptedServer("127.0.0.1", status=307, headers=location)
    try:
        resp = api_bind(client, auth, server.url)
    finally:
        server.stop()
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "configuration"
    assert error["message"].startswith(f"127.0.0.1:{server.port} answered a redirect (HTTP 307)")
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_a_refusing_port_fails_the_bind_at_once(client, auth, unused_port):
    started = time.monotonic()
    resp = api_bind(client, auth, f"http://127.0.0.1:{unused_port}")
    assert time.monotonic() - started < 3  # main retried for about 50 s
    assert resp.status_code == 502  # issue 22: a bad gateway, in plain words
    assert resp.get_json()["error"]["message"] == (
        f"The store's API could not be reached at 127.0.0.1:{unused_port}: check the address."
    )


def test_a_silent_server_fails_the_bind_after_one_read_timeout(client, auth):
    """A server that accepts and never answers: one attempt, the interactive read timeout."""
    recorder = Recorder("127.0.0.1", idle=30)
    started = time.monotonic()
    try:
        resp = api_bind(client, auth, f"http://127.0.0.1:{recorder.port}")
    finally:
        elapsed = time.monotonic() - started
        recorder.stop()
    assert resp.status_code == 504  # issue 22: a gateway timeout, in plain words
    assert resp.get_json()["error"]["message"] == (
        "The store's API did not answer within 5 seconds: check the address "
        f"(127.0.0.1:{recorder.port})."
    )
    assert recorder.connections == 1  # not retried
    assert elapsed < INTERACTIVE["timeout"][1] + 3


def test_the_bind_form_fails_fast_with_a_plain_message(client, workspace, unused_port):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    started = time.monotonic()
    page = client.post("/stores/bind/youzan", follow_redirects=True,
                       data=demo_bind_config(f"http://127.0.0.1:{unused_port}"))  # fmt: skip
    assert time.monotonic() - started < 3
    assert (
        f"The store&#39;s API could not be reached at 127.0.0.1:{unused_port}: check the address."
    ) in page.text
    assert db.session.scalar(select(Connection)) is None


def test_an_answer_that_is_not_json_is_summarised_not_echoed(client, auth):
    server = ScriptedServer("127.0.0.1", headers={"Content-Type": "text/html"},
                            body=b"<html>internal admin console SECRET-42</html>")  # fmt: skip
    try:
        resp = api_bind(client, auth, server.url)
    finally:
        server.stop()
    assert resp.status_code == 502  # issue 22: a bad gateway, in plain words
    assert resp.get_json()["error"]["message"] == (
        f"The store's address (127.0.0.1:{server.port}) answered something that is not the "
        "platform's API: check the address."
    )


def test_a_platform_message_is_short_and_sanitised(workspace):
    internal = "internal\nroot:x:0:0:root:/root:/bin/bash " + "A" * 400
    body = f'{{"success": false, "code": 1000, "message": "{internal!s}"}}'.replace("\n", "\\n")
    server = ScriptedServer("127.0.0.1", body=body.encode())
    try:
        with pytest.raises(ConfigError) as err:
            bind(workspace, server.url)
    finally:
        server.stop()
    message = str(err.value)
    assert message.startswith(
        f"Youzan refused the credentials for store {KDT_ID}: client_secret is wrong "
        "(internal root:x:0:0:root:/root:/bin/bash AAA"
    )
    assert "\n" not in message and "A" * 100 not in message and len(message) < 200


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),  # cloud metadata
        ("[::1]", "::1 is a loopback address"),
        ("localhost", "localhost (127.0.0.1) is a loopback address"),
    ],
)
def test_api_bind_to_any_private_host_is_refused_at_once(client, auth, public_only, host, shown):
    started = time.monotonic()
    resp = api_bind(client, auth, f"https://{host}:8443")
    assert time.monotonic() - started < 3  # refused before connecting: nothing to wait for
    assert resp.status_code == 400
    assert resp.get_json()["error"]["message"] == (
        f"API base URL: {shown}; the hub connects to platforms on public addresses only"
    )


def test_api_squatting_through_a_custom_base_never_blocks_the_real_owner(
    client, workspace, other_workspace, official, squatter
):
    """The issue's scenario through the API: workspace B binds store X with its own token
    server; the real owner then binds X on the official base, and B cannot take it there."""
    owner = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}
    intruder = {"Authorization": f"Bearer {tokens.create_token(other_workspace.id, 'b')[1]}"}
    squatted = api_bind(client, intruder, squatter)
    assert squatted.status_code == 201, squatted.get_json()
    assert squatted.get_json()["store_id"] == KDT_ID
    owned = api_bind(client, owner, official)
    assert owned.status_code == 201, owned.get_json()
    assert owned.get_json()["store_id"] == KDT_ID
    again = api_bind(client, intruder, official)
    assert again.status_code == 409
    assert again.get_json()["error"]["message"].startswith(
        f"store {KDT_ID} is already bound to another workspace"
    )
    keys = db.session.scalars(select(Connection.bound_key).order_by(Connection.id)).all()
    assert keys == [f"{KDT_ID}@{squatter}", KDT_ID]


# ---------------------------------------------------------------------- through the CLI
def cli_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """A production-like environment: HUB_ALLOW_PRIVATE_PLATFORMS unset unless given."""
    return clean_env(HUB_DATABASE_URL=database_url, HUB_REDIS_URL=redis_url,
                     HUB_SECRET_KEY="test-secret-key", HUB_ENCRYPTION_KEY=ENCRYPTION_KEY,
                     HUB_CONNECTORS=YOUZAN, **extra)  # fmt: skip


def cli_connect(base: str, env: dict[str, str]):
    pairs = [f"--set={key}={value}" for key, value in demo_bind_config(base).items()]
    return run_hub("connect", "youzan", "--workspace", "acme", *pairs, "--json", env=env)


def test_cli_connect_to_a_decimal_loopback_base_is_refused_and_sends_nothing(
    workspace, database_url, redis_url, recorder
):
    result = cli_connect(f"https://2130706433:{recorder.port}", cli_env(database_url, redis_url))
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["error"] == {
        "code": "configuration",  # the CLI's code for every ValidationFailed
        "message": "API base URL: 127.0.0.1 is a loopback address; "
        "the hub connects to platforms on public addresses only",
    }
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")
    assert db.session.query(Connection).count() == 0


def test_cli_connect_to_plain_http_is_refused_without_the_flag(
    workspace, database_url, redis_url, recorder
):
    result = cli_connect(f"http://127.0.0.1:{recorder.port}", cli_env(database_url, redis_url))
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["error"]["message"].startswith(
        "API base URL: enter an address starting with https://"
    )
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_cli_connect_with_the_flag_binds_a_local_sandbox(
    workspace, database_url, redis_url, squatter
):
    env = cli_env(database_url, redis_url, HUB_ALLOW_PRIVATE_PLATFORMS="true")
    result = cli_connect(squatter, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["external_id"] == KDT_ID
    db.session.expire_all()
    assert db.session.scalar(select(Connection.bound_key)) == f"{KDT_ID}@{squatter}"


def test_cli_connect_to_a_refusing_port_fails_at_once(
    workspace, database_url, redis_url, unused_port
):
    env = cli_env(database_url, redis_url, HUB_ALLOW_PRIVATE_PLATFORMS="true")
    started = time.monotonic()
    result = cli_connect(f"http://127.0.0.1:{unused_port}", env)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["message"] == (
        f"The store's API could not be reached at 127.0.0.1:{unused_port}: check the address."
    )
    assert elapsed < 15  # the process's start-up included; main retried for about 50 s


# ---------------------------------------------------------------------- the migration
def test_the_migration_keys_custom_bases_apart_and_back(app):
    """Rows bound before the change: a sandbox-based Youzan store gets ``id@origin``, the
    official one and other platforms keep their key; downgrading gives the plain id back."""
    from alembic.script import ScriptDirectory

    from tests.integration.test_migrations import _empty_database

    scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    before = scripts.get_revision(CLAIMS_REVISION).down_revision
    _empty_database()
    flask_migrate.upgrade(revision=before)
    rows = [
        (1, "youzan", "91000003", {"api_base": "http://127.0.0.1:5001/"}),
        (2, "youzan", "91000004", {"api_base": "HTTPS://open.youzanyun.com/"}),
        (3, "youzan", "91000005", {}),
        (4, "youzan", "91000006", {"api_base": "https://open.youzanyun.com/proxy"}),
        (5, "tmall", "91000003", {}),
    ]
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (id, name, slug, created_at) "
                          "VALUES (1, 'W', 'w', CURRENT_TIMESTAMP)"))  # fmt: skip
        for row_id, platform, store, settings in rows:
            conn.execute(
                text(
                    "INSERT INTO connections (id, workspace_id, platform, external_id, bound_key,"
                    " name, settings, status, sync_mode, api_calls, created_at) VALUES (:id, 1,"
                    " :platform, :store, :store, 'x', :settings, 'active', 'manual', 0,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"id": row_id, "platform": platform, "store": store,
                 "settings": json.dumps(settings)},
            )  # fmt: skip

    def keys() -> list[str]:
        with db.engine.connect() as conn:
            return list(conn.scalars(text("SELECT bound_key FROM connections ORDER BY id")))

    flask_migrate.upgrade(revision=CLAIMS_REVISION)
    assert keys() == ["91000003@http://127.0.0.1:5001", "91000004", "91000005",
                      "91000006@https://open.youzanyun.com", "91000003"]  # fmt: skip
    flask_migrate.downgrade(revision=before)
    assert keys() == ["91000003", "91000004", "91000005", "91000006", "91000003"]
