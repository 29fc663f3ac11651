"""Issue 22 (9): commands that enqueue, run outside `hub demo` with no worker: `hub sync --wait`
notices within seconds and says how to start one, `--inline` runs the sync in the command, and
without --wait the command says that nothing will take the job."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from rq import Worker
from sqlalchemy import select

from hub.extensions import db
from hub.jobs.queues import SYNC, queue
from hub.models import SyncRun
from tests.integration.test_cli_process import fake_store, hub, hub_env, worker  # noqa: F401

SAMPLE = Path(__file__).resolve().parents[2] / "connectors/customers/samples/customers.csv"


def workers_listening(name: str) -> int:
    return len(Worker.all(queue=queue(name)))


def test_sync_wait_without_a_worker_stops_within_seconds_and_says_how(
    app: Flask,
    workspace,
    hub_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    conn = fake_store(workspace, tmp_path)
    assert workers_listening(SYNC) == 0
    # main polled for ever: the subprocess timeout below is what ended it
    result = hub("sync", str(conn.id), "--wait", env=hub_env, timeout=60)
    assert result.returncode == 1
    run = db.session.scalar(select(SyncRun).where(SyncRun.connection_id == conn.id))
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: sync run {run.id} is queued but no worker is running to take jobs from the "
        "sync queue: start one with `hub worker` (in another terminal or as a service); "
        f"or run it in this command: `hub sync {conn.id} --inline`"
    )


def test_sync_inline_runs_the_queued_run_in_the_command(
    runner: CliRunner, workspace, tmp_path: Path
) -> None:
    conn = fake_store(workspace, tmp_path)
    queued = runner.invoke(args=["hub", "sync", str(conn.id), "--json"])
    assert json.loads(queued.stdout)["status"] == "queued"
    started = time.monotonic()
    result = runner.invoke(args=["hub", "sync", str(conn.id), "--inline", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["status"], data["progress_done"]) == ("succeeded", 24)
    assert data["run_id"] == json.loads(queued.stdout)["run_id"]  # the queued run, taken over
    assert time.monotonic() - started < 10


def test_sync_without_wait_says_no_worker_will_take_it(
    runner: CliRunner, workspace, tmp_path: Path
) -> None:
    conn = fake_store(workspace, tmp_path)
    result = runner.invoke(args=["hub", "sync", str(conn.id)])
    assert result.exit_code == 0, result.output
    run_id = db.session.scalar(select(SyncRun.id))
    assert result.stdout == f"Sync run {run_id}: queued.\n"
    assert result.stderr == (
        "Warning: it stays queued: no worker is running to take jobs from the sync queue: "
        "start one with `hub worker` (in another terminal or as a service); "
        f"or run it in this command: `hub sync {conn.id} --inline`.\n"
    )
    as_json = runner.invoke(args=["hub", "sync", str(conn.id), "--json"])
    assert json.loads(as_json.stdout)["worker_running"] is False
    assert as_json.stderr == ""


@pytest.fixture
def app_config(app_config: dict) -> dict:
    customers = "connectors.customers.connector:CustomersConnector"
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], customers]}


def test_import_queue_without_a_worker_says_so(runner: CliRunner, workspace) -> None:
    args = ["hub", "import", "customers", str(SAMPLE), "--workspace", workspace.slug, "--queue"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Import 1 queued (job ")
    assert result.stderr == (
        "Warning: it stays queued: no worker is running to take jobs from the imports queue: "
        "start one with `hub worker` (in another terminal or as a service); "
        "or import in this command: run it again without --queue.\n"
    )


@pytest.mark.slow
def test_sync_wait_with_a_worker_still_follows_the_run(
    worker: subprocess.Popen,  # noqa: F811
    workspace,
    runner: CliRunner,
    tmp_path: Path,
) -> None:
    deadline = time.monotonic() + 60
    while not workers_listening(SYNC) and time.monotonic() < deadline:
        time.sleep(0.2)
    conn = fake_store(workspace, tmp_path)
    result = runner.invoke(args=["hub", "sync", str(conn.id), "--wait", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "succeeded"
