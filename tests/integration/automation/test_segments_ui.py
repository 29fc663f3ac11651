"""The segments pages (A2): the builder's rows become the filter, its live count (the
endpoint hub.js posts the form to), the members list with CSV export and "save as group"."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from hub.extensions import db
from hub.models import Group, Segment
from tests.integration.automation import builders as b
from tests.support.ui import browser, login, make_user

TWICE = {
    "name": "Tea twice",
    "match": "all",
    "row-0-field": "bought",
    "row-0-what": "sku",
    "row-0-value": "TEA-1",
    "row-0-count": "2",
    "row-0-days": "90",
}


@pytest.fixture
def shop(app: Flask, workspace: Any) -> Any:
    ws = workspace.id
    tea = {"sku_id": "TEA-1", "product_external_id": "p1", "name": "Green Tea", "qty": 1}
    ann = b.customer(ws, "ann")
    bob = b.customer(ws, "bob")
    cy = b.customer(ws, "cy", stage="lead")
    for c, days in ((ann, 5), (ann, 80), (bob, 10), (cy, 1), (cy, 2)):
        b.order(ws, c, days_ago=days, lines=[tea])
    b.tag(ws, bob, "VIP")
    db.session.commit()
    make_user(workspace, "admin@x.test")
    make_user(workspace, "analyst@x.test", role="analyst")
    return workspace


def test_a2_builder_live_count_save_and_members(app: Flask, shop: Any) -> None:
    admin = browser(app)
    login(admin, "admin@x.test")
    page = admin.get("/segments/new").get_data(as_text=True)
    assert 'data-preview-url="/segments/preview"' in page and 'id="segment-count"' in page
    assert admin.get("/assets/hub.js").get_data(as_text=True).count("data-preview-url") >= 1
    assert admin.post("/segments/preview", data=TWICE).json == {"count": 2}
    anyof = {"match": "any", "row-0-field": "tags", "row-0-op": "contains", "row-0-value": "vip",
             "row-1-field": "stage", "row-1-op": "in", "row-1-value": "lead, customer"}  # fmt: skip
    assert admin.post("/segments/preview", data=anyof).json == {"count": 2}
    bad = admin.post("/segments/preview", data={"row-0-field": "stage", "row-0-op": "gt"})
    assert bad.status_code == 400 and bad.json["field"] == "filter[0].op"

    saved = admin.post("/segments", data=TWICE)
    assert saved.status_code == 302
    segment = db.session.query(Segment).one()
    assert segment.filter == [
        {"field": "bought", "op": "gte",
         "value": {"sku": "TEA-1", "count": 2, "within_days": 90}}
    ]  # fmt: skip
    detail = admin.get(saved.headers["Location"]).get_data(as_text=True)
    assert "ann" in detail and "cy" in detail and ">bob<" not in detail
    edit = admin.get(f"/segments/{segment.id}/edit").get_data(as_text=True)
    assert 'value="TEA-1"' in edit and 'value="90"' in edit

    csv_text = admin.get(f"/segments/{segment.id}/customers.csv").get_data(as_text=True)
    assert len(csv_text.strip().splitlines()) == 3  # the header and two members
    made = admin.post(f"/segments/{segment.id}/group", data={"name": "Tea lovers"})
    assert made.status_code == 302
    group = db.session.query(Group).filter_by(name="Tea lovers").one()
    assert "ann" in admin.get(made.headers["Location"]).get_data(as_text=True)
    assert group.workspace_id == shop.id

    renamed = admin.post(f"/segments/{segment.id}", data={**TWICE, "name": "Tea x2"})
    assert renamed.status_code == 302
    assert "Tea x2" in admin.get("/segments").get_data(as_text=True)
    assert admin.post(f"/segments/{segment.id}/delete").status_code == 302
    assert db.session.query(Segment).count() == 0


def test_a2_builder_refusal_names_the_row_and_keeps_the_form(app: Flask, shop: Any) -> None:
    admin = browser(app)
    login(admin, "admin@x.test")
    sent = {**TWICE, "row-1-field": "score", "row-1-op": "gt", "row-1-value": "lots"}
    page = admin.post("/segments", data=sent).get_data(as_text=True)
    assert "filter[1].value must be a whole number" in page
    assert 'value="TEA-1"' in page and 'value="lots"' in page
    assert db.session.query(Segment).count() == 0


def test_a2_analyst_reads_and_counts_but_does_not_save(app: Flask, shop: Any) -> None:
    analyst = browser(app)
    login(analyst, "analyst@x.test")
    assert analyst.post("/segments/preview", data=TWICE).json == {"count": 2}
    assert analyst.post("/segments", data=TWICE).status_code == 403
    assert analyst.get("/segments").status_code == 200
