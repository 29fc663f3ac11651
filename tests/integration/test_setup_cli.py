"""Issue 22 (13): on a fresh database, `hub workspace create` before `hub import`, as a new
user runs the CLI outside `hub demo`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from hub.extensions import db
from hub.models import Customer, Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "connectors/customers/samples/customers.csv"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    customers = "connectors.customers.connector:CustomersConnector"
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], customers]}


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(args=["hub", *args])


def test_workspace_create_then_import_on_a_fresh_database(runner: CliRunner) -> None:
    created = invoke(runner, "workspace", "create", "Acme Tea", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.output)["slug"] == "acme-tea"
    imported = invoke(runner, "import", "customers", str(SAMPLE), "--workspace", "acme-tea")
    assert imported.exit_code == 0, imported.output
    assert imported.output.startswith("Import 1: created ")
    listed = json.loads(invoke(runner, "workspace", "list", "--json").output)["items"]
    assert [(w["slug"], w["name"], w["users"]) for w in listed] == [("acme-tea", "Acme Tea", 0)]
    ws = db.session.scalar(select(Workspace))
    assert db.session.scalar(select(Customer.workspace_id).limit(1)) == ws.id


def test_a_missing_workspace_says_how_to_create_it(runner: CliRunner) -> None:
    result = invoke(runner, "import", "customers", str(SAMPLE), "--workspace", "acme")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: workspace 'acme' does not exist; create it with `hub workspace create acme` "
        "(`hub workspace list` shows the existing ones)"
    )


def test_workspace_create_refuses_a_taken_slug_and_lists_none_at_first(runner: CliRunner) -> None:
    assert "No workspaces yet" in invoke(runner, "workspace", "list").output
    assert invoke(runner, "workspace", "create", "acme").exit_code == 0
    again = invoke(runner, "workspace", "create", "ACME")
    assert again.exit_code == 1
    assert "a workspace with slug 'acme' already exists" in again.output


def test_workspace_create_takes_a_time_zone_and_refuses_a_wrong_one(runner: CliRunner) -> None:
    made = invoke(runner, "workspace", "create", "London Tea", "--time-zone", "europe/london")
    assert made.exit_code == 0, made.output
    assert "times in Europe/London" in made.output
    assert invoke(runner, "workspace", "create", "Shanghai Tea").exit_code == 0
    wrong = invoke(runner, "workspace", "create", "Mars", "--time-zone", "Mars/Olympus")
    assert wrong.exit_code == 1
    assert "Mars/Olympus" in wrong.output
    zones = dict(db.session.execute(select(Workspace.slug, Workspace.time_zone)).all())
    assert zones == {"london-tea": "Europe/London", "shanghai-tea": "Asia/Shanghai"}
