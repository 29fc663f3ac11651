"""API token roles (issue 20 point 8): admin does everything, analyst reads and runs analyses,
read-only reads. Enforced once for every /api/v1 route; tokens are listed and revoked from the
CLI and the settings page."""

from __future__ import annotations

import json

import flask_migrate
import pytest
from flask import url_for
from sqlalchemy import func, select, text

from hub.extensions import db
from hub.models import ApiToken
from hub.services import tokens
from hub.web.api_base import PREFIX, RANK, READ_METHODS, allow, required_role
from tests.support.ui import login, make_user


@pytest.fixture
def bearer(workspace) -> dict[str, dict[str, str]]:
    """An Authorization header per role."""
    made = {role: tokens.create_token(workspace.id, role, role=role)[1] for role in ApiToken.ROLES}
    return {role: {"Authorization": f"Bearer {value}"} for role, value in made.items()}


def api_routes(app) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) of every /api/v1 route, its arguments filled with 1."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith(PREFIX + "/"):
                continue
            url = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, 1))
            routes += [
                (m, url, rule.endpoint) for m in sorted(rule.methods or ()) if m != "OPTIONS"
            ]
    return routes


def test_every_write_route_refuses_tokens_below_its_role(app, client, bearer):
    writes = [r for r in api_routes(app) if r[0] not in READ_METHODS]
    assert {("POST", f"{PREFIX}/connections"), ("DELETE", f"{PREFIX}/connections/1")} <= {
        (m, u) for m, u, _e in writes
    }
    for method, url, endpoint in writes:
        needed = required_role(app.view_functions[endpoint], method)
        assert needed != "read-only", (method, url)
        for role in (r for r in ApiToken.ROLES if RANK[r] < RANK[needed]):
            response = client.open(url, method=method, headers=bearer[role])
            assert response.status_code == 403, (role, method, url)
            error = response.get_json()["error"]
            assert error["code"] == "forbidden", (role, method, url)
            assert f"role {role}" in error["message"] and f"role {needed}" in error["message"]


def test_every_read_route_answers_every_role(app, client, bearer):
    reads = [r for r in api_routes(app) if r[0] == "GET"]
    assert len(reads) >= 10
    for _method, url, endpoint in reads:
        # A read that declares admin (privacy requests: what the hub holds on a person)
        # answers admins only; every other read answers every role.
        needed = required_role(app.view_functions[endpoint], "GET")
        for role in ApiToken.ROLES:
            status = client.get(url, headers=bearer[role]).status_code
            if RANK[role] >= RANK[needed]:
                assert status not in (401, 403), (role, url, status)
            else:
                assert status == 403 and needed == "admin", (role, url, status)


def test_admin_tokens_still_write(client, bearer):
    response = client.post(f"{PREFIX}/connections/sync", headers=bearer["admin"])
    assert response.status_code == 202
    response = client.post(f"{PREFIX}/connections", json={}, headers=bearer["admin"])
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "platform"


def test_routes_declare_what_they_need_and_writes_default_to_admin():
    def view():
        return None

    assert required_role(view, "GET") == "read-only"
    assert required_role(view, "POST") == required_role(view, "DELETE") == "admin"
    assert required_role(allow("analyst")(view), "POST") == "analyst"
    assert required_role(allow("admin")(lambda: None), "GET") == "admin"
    assert required_role(allow("read-only")(lambda: None), "PATCH") == "analyst"  # never writes
    with pytest.raises(ValueError, match="unknown token role"):
        allow("owner")


def test_existing_tokens_become_admins_through_the_migration(app):
    db.session.remove()
    db.drop_all()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    flask_migrate.upgrade(revision="7c1d2e9a4b30")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workspaces (id, name, slug, created_at) "
                "VALUES (1, 'Tea', 'tea', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO api_tokens (workspace_id, name, token_hash, prefix, created_at) "
                "VALUES (1, 'old', 'h', 'trb_x', '2026-01-01 00:00:00')"
            )
        )
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT role FROM api_tokens")).scalar_one() == "admin"


def cli(runner, *args: str) -> tuple[int, dict]:
    result = runner.invoke(args=["hub", "token", *args, "--json"])
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def test_cli_creates_lists_and_revokes_tokens_with_roles(runner, workspace, other_workspace):
    code, made = cli(runner, "create", "--workspace", "acme", "--name", "bi", "--role", "read-only")
    assert code == 0 and made["role"] == "read-only"
    assert tokens.authenticate(made["token"]).role == "read-only"
    code, default = cli(runner, "create", "--workspace", "acme", "--name", "etl")
    assert code == 0 and default["role"] == "admin"
    code, listed = cli(runner, "list", "--workspace", "acme")
    assert code == 0
    assert [(t["name"], t["role"], t["revoked_at"]) for t in listed["items"]] == [
        ("bi", "read-only", None), ("etl", "admin", None)
    ]  # fmt: skip
    assert all(t["prefix"] == made["token"][:12] for t in listed["items"][:1])
    assert made["token"] not in json.dumps(listed)
    code, error = cli(runner, "revoke", str(made["id"]), "--workspace", "other")
    assert code == 1 and error == {
        "error": {"code": "not_found", "message": f"token {made['id']} does not exist in other"}
    }
    code, revoked = cli(runner, "revoke", str(made["id"]), "--workspace", "acme")
    assert code == 0 and revoked["revoked_at"] is not None
    assert tokens.authenticate(made["token"]) is None
    bad = runner.invoke(args=["hub", "token", "create", "--workspace", "acme", "--name", "x",
                              "--role", "owner"])  # fmt: skip
    assert bad.exit_code == 2 and "owner" in bad.output


@pytest.fixture
def admin_and_analyst(workspace):
    make_user(workspace, "admin@acme.test")
    make_user(workspace, "analyst@acme.test", role="analyst")


def test_settings_page_creates_shows_once_lists_and_revokes(client, workspace, admin_and_analyst):
    login(client, "admin@acme.test")
    assert b'data-nav="tokens"' in client.get("/customers").data
    page = client.post("/settings/tokens", data={"name": "dashboard feed", "role": "read-only"})
    html = page.get_data(as_text=True)
    token = db.session.scalars(select(ApiToken).filter_by(name="dashboard feed")).one()
    plaintext = html.split('data-test="token-value">')[1].split("<")[0]
    assert token.role == "read-only" and tokens.authenticate(plaintext).id == token.id
    listing = client.get("/settings/tokens").get_data(as_text=True)
    assert plaintext not in listing
    assert "dashboard feed" in listing and token.prefix in listing and "read-only" in listing
    reads = client.get(f"{PREFIX}/customers", headers={"Authorization": f"Bearer {plaintext}"})
    assert reads.status_code == 200
    writes = client.post(
        f"{PREFIX}/connections/sync", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert writes.status_code == 403
    response = client.post(f"/settings/tokens/{token.id}/revoke", follow_redirects=True)
    assert "revoked" in response.get_data(as_text=True)
    assert tokens.authenticate(plaintext) is None


def test_settings_page_refuses_a_bad_form_with_a_plain_message(client, admin_and_analyst):
    login(client, "admin@acme.test")
    response = client.post(
        "/settings/tokens", data={"name": " ", "role": "admin"}, follow_redirects=True
    )
    assert "Give the token a name" in response.get_data(as_text=True)
    response = client.post(
        "/settings/tokens", data={"name": "x", "role": "owner"}, follow_redirects=True
    )
    assert "Choose the token" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_settings_page_is_for_admins_of_the_workspace(
    client, workspace, other_workspace, admin_and_analyst
):
    theirs, _ = tokens.create_token(other_workspace.id, "theirs")
    login(client, "analyst@acme.test")
    assert b'data-nav="tokens"' not in client.get("/customers").data
    assert client.get("/settings/tokens").status_code == 403
    assert client.post("/settings/tokens", data={"name": "x", "role": "admin"}).status_code == 403
    client.post("/logout")
    login(client, "admin@acme.test")
    assert b"theirs" not in client.get("/settings/tokens").data
    assert client.post(f"/settings/tokens/{theirs.id}/revoke").status_code == 404
    db.session.refresh(theirs)
    assert theirs.revoked_at is None
