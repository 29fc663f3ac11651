"""The `hub` commands in-process (Flask's CLI runner): --json shapes, errors, users, tokens."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

from hub import cli
from hub.extensions import db
from hub.models import Connection, User, Workspace
from tests.support.fake_platform import make_orders, write_orders


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(args=["hub", *args])


def as_json(result: Result) -> dict:
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.output
    return json.loads(lines[0])


def test_user_create_makes_workspace_and_user(runner: CliRunner) -> None:
    result = invoke(runner, "user", "create", "Ann@Example.com", "--workspace", "tea",
                    "--role", "analyst", "--password", "long-enough-pw", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert data == {"id": data["id"], "email": "ann@example.com", "role": "analyst",
                    "workspace": "tea"}  # fmt: skip
    from hub.services.users import authenticate_user

    user = authenticate_user("ann@example.com", "long-enough-pw")
    assert user is not None and user.id == data["id"]
    assert db.session.get(Workspace, user.workspace_id).slug == "tea"


def test_user_create_prompts_for_the_password(runner: CliRunner, workspace: Workspace) -> None:
    result = runner.invoke(
        args=["hub", "user", "create", "bo@example.com", "--workspace", "acme"],
        input="prompted-pw-1\nprompted-pw-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin bo@example.com in workspace acme" in result.output
    user = db.session.scalar(select(User).where(User.email == "bo@example.com"))
    assert user.workspace_id == workspace.id


def test_user_create_refuses_a_short_password_with_one_line(runner: CliRunner) -> None:
    result = invoke(runner, "user", "create", "c@example.com", "--workspace", "tea",
                    "--password", "short")  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: Password: use at least 8 characters"
    assert db.session.scalar(select(User)) is None


def test_token_create_prints_a_working_token_once(runner: CliRunner, workspace: Workspace):
    result = invoke(runner, "token", "create", "--workspace", "acme", "--name", "etl", "--json")
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert set(data) == {"id", "name", "role", "workspace", "token"}
    assert data["role"] == "admin"  # the default: every token was an admin before roles
    from hub.services.tokens import authenticate

    assert authenticate(data["token"]).workspace_id == workspace.id


def test_token_create_for_an_unknown_workspace_fails_in_json(runner: CliRunner) -> None:
    result = invoke(runner, "token", "create", "--workspace", "nope", "--name", "x", "--json")
    assert result.exit_code == 1
    assert as_json(result) == {
        "error": {
            "code": "not_found",
            "message": "workspace 'nope' does not exist; create it with "
            "`hub workspace create nope` (`hub workspace list` shows the existing ones)",
        }
    }


@pytest.mark.parametrize("command", [["sync", "999"], ["unbind", "999"]])
def test_unknown_connection_id_is_a_clear_error(runner: CliRunner, command: list[str]) -> None:
    result = invoke(runner, *command)
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: connection 999 does not exist"


def test_connect_prints_the_id_and_unbind_releases_it(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    data_file = tmp_path / "orders.json"
    write_orders(data_file, [])
    result = invoke(runner, "connect", "fake", "--workspace", "acme", "--name", "Tea shop",
                    "--set", "store_id=S9", "--set", "api_key=k-9", "--no-first-sync",
                    "--set", f"data_file={data_file}")  # fmt: skip
    assert result.exit_code == 0, result.output
    conn = db.session.get(Connection, int(result.stdout.strip()))
    assert (conn.workspace_id, conn.external_id, conn.name) == (workspace.id, "S9", "Tea shop")
    assert b"k-9" not in conn.credentials_enc

    result = invoke(runner, "unbind", str(conn.id), "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result) == {"id": conn.id, "status": "unbound"}
    db.session.refresh(conn)
    assert conn.bound_key is None


def test_connect_names_the_missing_setting(runner: CliRunner, workspace: Workspace) -> None:
    result = invoke(runner, "connect", "fake", "--workspace", "acme", "--set", "store_id=S1",
                    "--json")  # fmt: skip
    assert result.exit_code == 1
    error = as_json(result)["error"]
    assert "api_key" in error["message"] or "data_file" in error["message"]
    assert db.session.scalar(select(Connection)) is None


def test_connect_rejects_a_malformed_setting(runner: CliRunner, workspace: Workspace) -> None:
    result = invoke(runner, "connect", "fake", "--workspace", "acme", "--set", "store_id")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: --set 'store_id': write it as key=value"


def test_sync_without_wait_queues_a_run(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from tests.support.fake_platform import add_connection

    data_file = tmp_path / "orders.json"
    write_orders(data_file, make_orders(3, start=datetime.now(UTC)))
    conn = add_connection(workspace.id, data_file)
    result = invoke(runner, "sync", str(conn.id), "--json")
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert data["connection_id"] == conn.id and data["status"] == "queued"
    again = as_json(invoke(runner, "sync", str(conn.id), "--json"))
    assert again["run_id"] == data["run_id"]  # a second request joins the first


def test_db_upgrade_reports_the_head_revision(runner: CliRunner, app: Flask) -> None:
    db.drop_all()
    result = invoke(runner, "db", "upgrade", "--json")
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(
        app.extensions["migrate"].migrate.get_config()
    ).get_current_head()
    assert as_json(result) == {"revision": head}
    assert as_json(invoke(runner, "db", "current", "--json")) == {"revision": head}


def test_plugin_commands_load_lazily_from_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.PLUGIN_COMMANDS, "hello", f"{__name__}:hello_command")
    runner = CliRunner()
    listing = runner.invoke(cli.cli, ["--help"])
    assert "hello" in listing.output and "demo" in listing.output
    result = runner.invoke(cli.cli, ["hello", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"hello": "world"}


@click.command("hello")
@cli.hub_command(needs_app=False)
def hello_command() -> None:
    cli.emit({"hello": "world"}, "hello world")


def test_worker_burst_runs_the_queued_sync_and_stops(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from hub.models import SyncRun
    from tests.support.fake_platform import add_connection

    data_file = tmp_path / "orders.json"
    write_orders(data_file, make_orders(6, start=datetime.now(UTC) - timedelta(days=1)))
    conn = add_connection(workspace.id, data_file)
    run_id = as_json(invoke(runner, "sync", str(conn.id), "--json"))["run_id"]

    result = invoke(runner, "worker", "--burst", "--queues", "sync", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"stopped": True, "burst": True}
    db.session.expire_all()
    run = db.session.get(SyncRun, run_id)
    assert (run.status, run.progress_done) == ("succeeded", 6), run.error_message
