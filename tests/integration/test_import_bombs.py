"""Spreadsheet bombs through a web request and through the import job (issue 20, point 10),
each step in a fresh process whose peak RSS is measured (tests/support/measure.py): every
bomb gets a clear error (or, the dimension bomb, a correct import) within seconds, and the
process grows by less than GROWTH_MB over all of them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.extensions import db
from hub.models import ImportRun
from hub.services import tokens
from tests.support import bombs
from tests.support.spreadsheets import IMPORT_CONNECTORS, write_csv

ROOT = Path(__file__).resolve().parents[2]
GROWTH_MB = 48  # the README's bound for a web request (16 MiB read) and the job's rows
SECONDS = 5
ZIP_BOMB = "the file is refused as a zip bomb"
# file -> (what the upload answers, what the job ends with)
EXPECTED = {
    "strings.xlsx": ("400", ZIP_BOMB),
    "ratio.xlsx": ("400", ZIP_BOMB),
    "parts.xlsx": ("400", "the workbook has more than 1,000 parts"),
    "lying.xlsx": ("400", "Bad CRC-32"),
    "wide.xlsx": ("400", "row 3 has a value in column 16,384, beyond the 1,000 columns"),
    "commas.csv": ("400", "line 1 is longer than 1,048,576 characters"),
    "late-commas.csv": ("202", "line 4 is longer than 1,048,576 characters"),
    "dimension.xlsx": ("202", "succeeded"),
    "amplified.xlsx": ("202", "succeeded"),
}
CREATED = {"dimension.xlsx": 2, "amplified.xlsx": 120}  # customers the correct imports create


@pytest.fixture(scope="module")
def bomb_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "strings.xlsx": bombs.shared_strings_bomb(folder / "strings.xlsx"),
        "ratio.xlsx": bombs.ratio_bomb(folder / "ratio.xlsx"),
        "parts.xlsx": bombs.many_parts_bomb(folder / "parts.xlsx"),
        "lying.xlsx": bombs.lying_bomb(folder / "lying.xlsx"),
        "wide.xlsx": bombs.wide_row_bomb(folder / "wide.xlsx"),
        "commas.csv": bombs.comma_line(folder / "commas.csv"),
        "late-commas.csv": bombs.comma_line(folder / "late-commas.csv", at_line=4),
        "dimension.xlsx": bombs.dimension_bomb(folder / "dimension.xlsx"),
        "amplified.xlsx": bombs.amplified(folder / "amplified.xlsx"),
        "warm-up.csv": write_csv(folder / "warm-up.csv", [bombs.HEADER, ["Warm", "13700137000"]]),
    }


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": list(IMPORT_CONNECTORS)}


def measured(mode: str, config: dict, steps: list[dict]) -> dict:
    """Run the steps in a fresh process (tests/support/measure.py)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.measure", mode, json.dumps(config),
         json.dumps(steps)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=SECONDS * len(steps) + 60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bombs_in_a_web_request(app, app_config, workspace, bomb_files):
    token = tokens.create_token(workspace.id, "bombs")[1]
    steps = [{"path": str(path), "name": name, "kind": "customers", "token": token}
             for name, path in [("warm-up.csv", bomb_files["warm-up.csv"]),
                                *((n, bomb_files[n]) for n in EXPECTED)]]  # fmt: skip
    report = measured("web", app_config, steps)
    print("web", report)
    for (name, (status, message)), result in zip(EXPECTED.items(), report["results"], strict=True):
        assert str(result["status"]) == status, (name, result)
        if status == "400":
            assert result["body"]["error"]["code"] == "validation_failed"
            assert result["body"]["error"]["message"].startswith(f"{name}: "), result
            assert message in result["body"]["error"]["message"], (name, result)
        assert result["seconds"] < SECONDS, (name, result)
    assert report["growth_mb"] < GROWTH_MB, report


def test_bombs_in_the_import_job(app, app_config, workspace, bomb_files):
    runs = []
    for name in ["warm-up.csv", *EXPECTED]:
        run = ImportRun(workspace_id=workspace.id, kind="customers", settings={},
                        files=[{"path": str(bomb_files[name]), "name": name}])  # fmt: skip
        db.session.add(run)
        db.session.commit()
        runs.append({"run": run.id})
    report = measured("job", app_config, runs)
    print("job", report)
    for (name, (_status, message)), result in zip(EXPECTED.items(), report["results"], strict=True):
        if message == "succeeded":
            expected = ("succeeded", CREATED[name], 0)
            assert (result["status"], result["created"], result["failed"]) == expected, result
        else:
            assert result["status"] == "failed" and result["error"].startswith(f"{name}: ")
            assert message in result["error"], (name, result)
        assert result["seconds"] < SECONDS, (name, result)
    assert report["growth_mb"] < GROWTH_MB, report


def test_bomb_refused_at_upload(app, client, workspace, bomb_files):
    from tests.support.ui import login, make_user

    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    data = bomb_files["strings.xlsx"].read_bytes()
    upload = {"kind": "customers", "files": (io.BytesIO(data), "客户.xlsx")}
    page = client.post("/imports/new", content_type="multipart/form-data", data=upload)
    assert page.status_code == 400 and ZIP_BOMB in page.get_data(as_text=True)
    assert client.get("/imports/mapping").status_code == 302  # nothing staged
