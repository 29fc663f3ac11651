"""Imports through the admin pages: upload, column mapping (I2), pre-import settings (I5),
then the history with the original and the failure file (I6)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models import Customer, Group, ImportRun
from tests.support.ui import login, make_user

CUSTOMERS = "connectors.customers.connector:CustomersConnector"
CSV = "Full name,Phone,Mail,Notes\nWang Fang,+86 139 1111 2222,wf@example.com,x\nBad Row,12345,,y\n"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], CUSTOMERS]}


@pytest.fixture
def admin(client, workspace):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    return client


def upload(client, body: str = CSV):
    return client.post(
        "/imports/new",
        data={"kind": "customers", "files": (io.BytesIO(body.encode()), "people.csv")},
        content_type="multipart/form-data",
    )


def test_i2_i5_i6_customer_import_through_the_pages(admin, workspace):
    resp = upload(admin)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/imports/mapping")
    page = admin.get("/imports/mapping").get_data(as_text=True)
    assert "Full name" in page and "Phone" in page
    # I2: a mapping without any key column is refused with the rule
    refused = admin.post("/imports/mapping", data={"map_0": "name"}, follow_redirects=True)
    assert "Map at least one column to Customer id, Mobile, Email or an identity" in refused.text
    resp = admin.post(
        "/imports/mapping", data={"map_0": "name", "map_1": "mobile", "map_2": "email", "map_3": ""}
    )
    assert resp.headers["Location"].endswith("/imports/settings")
    resp = admin.post("/imports/settings",
                      data={"group_name": "Spring fair", "tags": "fair, vip",
                            "original_source": "Spring fair 2026"})  # fmt: skip
    assert resp.headers["Location"].endswith("/imports")
    run = db.session.scalar(select(ImportRun))
    from hub.imports import jobs

    assert jobs.execute(run.id) == "succeeded"
    db.session.expire_all()
    wang = db.session.scalar(select(Customer).where(Customer.name == "Wang Fang"))
    assert wang is not None and wang.mobile == "13911112222"
    assert db.session.scalar(select(Group.name)) == "Spring fair"
    history = admin.get("/imports").get_data(as_text=True)
    assert "people.csv" in history and "failure file" in history
    original = admin.get(f"/imports/{run.id}/original?file=0")
    assert original.status_code == 200 and b"Wang Fang" in original.data
    failures = admin.get(f"/imports/{run.id}/failures")
    assert failures.status_code == 200 and b"Bad Row" in failures.data
    assert b"Wang Fang" not in failures.data


def test_import_steps_need_an_upload_first(admin):
    resp = admin.get("/imports/settings")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/imports/new")
    resp = admin.post("/imports/new", data={"kind": "customers"}, follow_redirects=True)
    assert b"Choose a .xlsx, .csv or .txt file" in resp.data


def test_other_workspace_import_files_are_404(admin, app, other_workspace, tmp_path):
    from hub.imports import service

    path = tmp_path / "theirs.csv"
    path.write_text(CSV)
    run = service.start(other_workspace.id, "customers", [("theirs.csv", path)],
                        settings={"mapping": {"Full name": "name", "Phone": "mobile"}},
                        enqueue=False)  # fmt: skip
    assert admin.get(f"/imports/{run.id}/original").status_code == 404
    assert admin.get(f"/imports/{run.id}/failures").status_code == 404
    assert b"theirs.csv" not in admin.get("/imports").data


def test_file_import_connectors_are_not_stores(admin):
    assert b"Customer spreadsheet" not in admin.get("/stores").data
    assert admin.get("/stores/bind/customers").status_code == 404
    assert b"Customer spreadsheet" in admin.get("/imports/new").data
