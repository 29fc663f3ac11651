"""/api/v1/imports (multipart upload, queued on "imports", history, failure file) and the
``hub import`` commands."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from hub.extensions import db, redis_connection
from hub.jobs.queues import IMPORTS, queue
from hub.models import Customer, ImportRun
from hub.services import tokens
from tests.support.burst import BurstWorker
from tests.support.spreadsheets import IMPORT_CONNECTORS, read_xlsx, write_csv, write_xlsx


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": list(IMPORT_CONNECTORS)}


@pytest.fixture
def auth(workspace) -> dict:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'imports')[1]}"}


def work(app) -> None:
    BurstWorker([queue(IMPORTS)], connection=redis_connection(app)).work(burst=True)


def test_i6_upload_queue_history_and_failure_file(app, client, auth, tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [["姓名", "手机号"], ["王芳", "13800139000"],
                                            ["李雷", "+1 555 0100"]])  # fmt: skip
    data = {"kind": "customers", "tag": ["expo", "vip"], "group": "Expo",
            "file": (io.BytesIO(path.read_bytes()), "客户.xlsx")}  # fmt: skip
    response = client.post("/api/v1/imports", data=data, headers=auth,
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 202, response.json
    run_id = response.json["id"]
    assert response.json["status"] == "queued"
    assert response.json["mapping"] == {"姓名": "name", "手机号": "mobile"}
    work(app)
    body = client.get(f"/api/v1/imports/{run_id}", headers=auth).json
    assert body["status"] == "succeeded" and body["counts"] == {
        "created": 1, "updated": 0, "skipped": 0, "failed": 1}  # fmt: skip
    assert body["progress"] == {"done": 2, "total": 2} and body["files"] == ["客户.xlsx"]
    listed = client.get("/api/v1/imports", headers=auth).json["items"]
    assert [r["id"] for r in listed] == [run_id]
    failures = client.get(f"/api/v1/imports/{run_id}/failures", headers=auth)
    assert failures.status_code == 200
    (tmp_path / "f.xlsx").write_bytes(failures.data)
    rows = read_xlsx(tmp_path / "f.xlsx")
    assert rows[0] == ["姓名", "手机号", "reason"] and rows[1][:2] == ["李雷", "'+1 555 0100"]
    original = client.get(f"/api/v1/imports/{run_id}/files/0", headers=auth)
    assert original.data == path.read_bytes()


def test_api_errors_are_json_and_scoped(app, client, auth, other_workspace, tmp_path):
    path = write_csv(tmp_path / "o.csv", [["Order No*"], ["1"]])
    response = client.post(
        "/api/v1/imports",
        headers=auth,
        content_type="multipart/form-data",
        data={"kind": "sobot-orders", "file": (path.open("rb"), "o.csv")},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_failed"
    assert "The file has no “Order Source” column" in response.json["error"]["message"]
    run = db.session.scalar(select(ImportRun))
    assert run.status == "failed" and "Order Source" in run.error
    other = {"Authorization": f"Bearer {tokens.create_token(other_workspace.id, 'x')[1]}"}
    assert client.get(f"/api/v1/imports/{run.id}", headers=other).status_code == 404
    assert client.get("/api/v1/imports", headers=other).json["items"] == []
    assert client.get(f"/api/v1/imports/{run.id}/failures", headers=auth).status_code == 404
    assert client.get("/api/v1/imports").status_code == 401
    bad = client.post("/api/v1/imports", headers=auth, content_type="multipart/form-data",
                      data={"kind": "nope", "file": (io.BytesIO(b"a\n1\n"), "a.csv")})  # fmt: skip
    assert "There is no import of kind 'nope'" in bad.json["error"]["message"]


def test_cli_import_dry_run_json_and_template(app, runner, workspace, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["Mobile", "Name"], ["13800139000", "A"]])
    result = runner.invoke(args=["hub", "import", "customers", str(path), "--workspace", "acme",
                                 "--tag", "t", "--dry-run", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["dry_run"] and data["counts"]["created"] == 1
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    result = runner.invoke(args=["hub", "import", "customers", str(path), "--workspace", "acme"])
    assert result.exit_code == 0 and "created 1, updated 0, skipped 0, failed 0" in result.output
    out = tmp_path / "sobot.xlsx"
    result = runner.invoke(args=["hub", "import", "template", "sobot-orders", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert read_xlsx(out)[0][:4] == ["Order No*", "Order Source*", "Order Status*", "Order Time*"]
    bad = runner.invoke(args=["hub", "import", "sobot-orders", str(path), "--workspace", "acme",
                              "--json"])  # fmt: skip
    assert bad.exit_code == 1
    assert "The file has no “Order No” column" in json.loads(bad.output)["error"]["message"]


def test_s2_template_download_and_customer_preview(app, client, auth, workspace, tmp_path):
    from hub.imports import service

    response = client.get("/api/v1/imports/templates/sobot-orders?format=csv", headers=auth)
    assert response.status_code == 200
    header = response.data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:2] == ["Order No*", "Order Source*"] and "Product Name" in header
    path = write_csv(tmp_path / "c.csv", [["手机号", "Unknown"], ["13800139000", "x"]])
    preview = service.preview(workspace.id, "customers", [(path, path.name)])
    assert preview["headers"] == ["手机号", "Unknown"]
    assert preview["mapping"] == {"手机号": "mobile"}
    assert ("identity:wx_openid", "WeChat openid") in preview["targets"]


@pytest.mark.parametrize("name", ["客户\x00.csv", "客户\x07\u202e.csv", "../../客户.csv"])
def test_uploaded_file_name_cleaned_so_its_downloads_work(app, client, auth, tmp_path, name):
    """A NUL (or any control character) in the name broke the download's header (issue 20)."""
    path = write_csv(tmp_path / "c.csv", [["Mobile"], ["13800139000"], ["12345"]])
    response = client.post("/api/v1/imports", headers=auth, content_type="multipart/form-data",
                           data={"kind": "customers", "file": (path.open("rb"), name)})  # fmt: skip
    assert response.status_code == 202 and response.json["files"] == ["客户.csv"]
    work(app)
    run_id = response.json["id"]
    for url in (f"/api/v1/imports/{run_id}/files/0", f"/api/v1/imports/{run_id}/failures"):
        download = client.get(url, headers=auth)
        assert download.status_code == 200
        disposition = download.headers["Content-Disposition"]
        assert disposition.isprintable() and disposition.isascii(), disposition
    first = client.get(f"/api/v1/imports/{run_id}/files/0", headers=auth)
    assert "filename*=UTF-8''%E5%AE%A2%E6%88%B7.csv" in first.headers["Content-Disposition"]


def test_file_name_kept_before_cleaning_still_downloads(app, client, auth, workspace, tmp_path):
    """A run stored with a NUL in its file's name (before names were cleaned) downloads with
    the name cleaned (a NUL in a header is refused by real servers)."""
    path = write_csv(tmp_path / "c.csv", [["Mobile"], ["13800139000"]])
    run = ImportRun(workspace_id=workspace.id, kind="customers", settings={}, status="succeeded",
                    files=[{"path": str(path), "name": "客户\x00.csv"}])  # fmt: skip
    db.session.add(run)
    db.session.commit()
    download = client.get(f"/api/v1/imports/{run.id}/files/0", headers=auth)
    assert download.status_code == 200 and download.data == path.read_bytes()
    assert "filename*=UTF-8''%E5%AE%A2%E6%88%B7.csv" in download.headers["Content-Disposition"]
