"""Issue 21.7: a file kind registered only by its dotted name (``tests.support.guestbook``,
outside hub/) imports end to end through the CLI, the API and the demo, with its entity, its
pre-check and its samples taken from the file-import contract (``hub.connectors``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.extensions import db, redis_connection
from hub.jobs.queues import IMPORTS, queue
from hub.models import Customer, ImportRun
from hub.services import tokens
from tests.support.burst import BurstWorker
from tests.support.guestbook import GuestbookConnector
from tests.support.spreadsheets import read_csv

GUESTBOOK = "tests.support.guestbook:GuestbookConnector"
SAMPLE = GuestbookConnector.sample_files()[0]


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], GUESTBOOK]}


def emails() -> list[str]:
    return sorted(db.session.scalars(select(Customer.email)))


def failure_reasons(path: str | Path) -> dict[str, str]:
    rows = read_csv(Path(path))
    assert rows[0] == ["Name", "Email*", "reason"]
    return {row[0]: row[2] for row in rows[1:]}


REASONS = {"No Mail": "Email*: 'nobody' is not an e-mail", "Mallory": "Email*: blocked domain"}


def test_i21_7_new_file_kind_imports_through_the_cli(app, runner, workspace, tmp_path):
    listed = runner.invoke(args=["hub", "import", "--help"])
    assert listed.exit_code == 0 and "guestbook" in listed.output
    result = runner.invoke(
        args=["hub", "import", "guestbook", str(SAMPLE), "--workspace", "acme", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "succeeded"
    assert data["counts"] == {"created": 2, "updated": 0, "skipped": 0, "failed": 2}
    assert emails() == ["ada@lovelace.org", "grace@hopper.net"]
    assert failure_reasons(data["failure_file"]) == REASONS
    out = tmp_path / "guestbook.csv"
    made = runner.invoke(args=["hub", "import", "template", "guestbook", "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert read_csv(out, encoding="utf-8-sig")[0] == ["Name", "Email*"]


def test_i21_7_new_file_kind_imports_through_the_api_queue(app, client, workspace):
    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'imports')[1]}"}
    data = {"kind": "guestbook", "file": (io.BytesIO(SAMPLE.read_bytes()), "guests.csv")}
    response = client.post("/api/v1/imports", data=data, headers=auth,
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 202, response.json
    assert response.json["status"] == "queued"
    BurstWorker([queue(IMPORTS)], connection=redis_connection(app)).work(burst=True)
    body = client.get(f"/api/v1/imports/{response.json['id']}", headers=auth).json
    assert body["status"] == "succeeded", body
    assert body["counts"] == {"created": 2, "updated": 0, "skipped": 0, "failed": 2}
    assert body["progress"] == {"done": 4, "total": 4}
    failures = client.get(f"/api/v1/imports/{body['id']}/failures", headers=auth)
    rows = failures.data.decode("utf-8-sig").splitlines()
    assert rows[0] == "Name,Email*,reason" and len(rows) == 3
    template = client.get("/api/v1/imports/templates/guestbook?format=csv", headers=auth)
    assert template.data.decode("utf-8-sig").splitlines()[0] == "Name,Email*"


def test_i21_7_demo_imports_the_samples_a_connector_declares(app, workspace):
    from hub.demo.samples import import_samples

    summary = import_samples(workspace.id)
    assert summary["status"] == "imported"
    entry = summary["imports"]["guestbook"]
    assert {k: entry[k] for k in ("status", "created", "failed")} == {
        "status": "succeeded", "created": 2, "failed": 2}  # fmt: skip
    run = db.session.get(ImportRun, entry["import_id"])
    assert run.kind == "guestbook" and [f["name"] for f in run.files] == ["guestbook.csv"]
    assert failure_reasons(entry["failure_file"]) == REASONS
