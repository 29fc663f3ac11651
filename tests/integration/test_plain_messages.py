"""Issue 22.15: what the hub says to people is in plain words, names the field by its label and
says what to do; machine-readable codes and fields stay as they were."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from connectors.customers import mapping as customers
from connectors.files.base import ImportContext
from connectors.files.cells import CellError
from connectors.sobot import mapping as sobot
from hub.core.errors import ValidationFailed
from hub.extensions import db
from hub.imports import service as imports
from hub.models import Customer
from hub.services import customers as customer_service
from hub.services.tokens import create_token
from tests.support.spreadsheets import IMPORT_CONNECTORS
from tests.support.ui import login, make_user, seed

ROOT = Path(__file__).resolve().parents[2]
RULE_ID = re.compile(r"\((?:[A-Z][0-9]{1,2})(?:[:)]| *[-–,])")  # "(I2)", "(S5: …)", "(Y1–Y5"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": list(IMPORT_CONNECTORS)}


def _messages(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text("utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body and isinstance(n.body[0], ast.Expr)}  # fmt: skip
    strings = [n for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    return [(n.lineno, n.value) for n in strings if isinstance(n.value, str) and id(n) not in docs]


def test_no_message_names_a_rule_id_or_says_file_s():
    found = []
    for folder in ("hub", "connectors"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or "sandbox" in path.name:
                continue
            for line, text in _messages(path):
                if RULE_ID.search(text) or "file(s)" in text:
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert found == []


def test_sobot_rows_say_what_to_fill_in():
    index = sobot.header_index([en for en, _cn, _r in sobot.COLUMNS.values()])
    cells = dict.fromkeys(sobot.COLUMNS, "")
    cells.update(order_no="SO-1", order_source="Youzan", order_status="Paid",
                 order_time="2022-09-14 11:03:23", buyer_mobile="13800139000", product_id="P",
                 sku="S", quantity="1", unit_price="1")  # fmt: skip
    with pytest.raises(CellError) as err:
        sobot.parse_row(list(cells.values()), index)
    assert str(err.value) == "Store No and Store ID: both blank; fill in at least one of them"


def test_a_mapping_without_a_key_column_says_which_fields_to_map():
    with pytest.raises(ValidationFailed) as err:
        customers.resolve_columns(["A"], {"A": "property:city"}, ImportContext())
    assert "(I2)" not in str(err.value)
    assert str(err.value).startswith("Map at least one column to Customer id, Mobile, Email")


def test_api_keeps_code_and_field_and_says_the_label(client, workspace, tmp_path):
    mine = seed(workspace, tmp_path)
    auth = {"Authorization": f"Bearer {create_token(workspace.id, 'x')[1]}"}
    url = f"/api/v1/connections/{mine.connection_id}/settings"
    answer = client.patch(url, headers=auth, json={"mode": "auto", "interval_minutes": "5"})
    error = answer.json["error"]
    assert (answer.status_code, error["code"], error["field"]) == (400, "validation_failed",
                                                                   "interval_minutes")  # fmt: skip
    assert error["message"] == "Sync interval (minutes): enter a whole number from 30 to 1440."
    answer = client.patch(url, headers=auth, json={"mode": "hourly"})
    assert answer.json["error"]["field"] == "mode"
    assert answer.json["error"]["message"].startswith("Sync: choose manual, auto, disabled")


def test_the_store_page_says_the_interval_in_words(client, workspace, tmp_path):
    mine = seed(workspace, tmp_path)
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    form = {"sync_mode": "auto", "sync_interval_minutes": "99999"}
    page = client.post(f"/stores/{mine.connection_id}/settings", data=form, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Sync interval (minutes): enter a whole number from 30 to 1440." in text
    assert "interval_minutes" not in text.replace('name="sync_interval_minutes"', "")


def test_the_customer_page_names_properties_by_their_labels(app, client, workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Mobile,Shoe,City\n13800139000,42,Hangzhou\n", "utf-8")
    with app.test_request_context():
        customer_service.create_field(workspace.id, "property", "shoe_size", "Shoe size (EU)")
        mapping = {"Mobile": "mobile", "Shoe": "property:shoe_size", "City": "property:city"}
        imports.start(workspace.id, "customers", [(path.name, path)], enqueue=False,
                      settings={"campaign": "Spring fair", "mapping": mapping})  # fmt: skip
    customer = db.session.scalar(db.select(Customer))
    assert customer.properties["original_campaign"] == "Spring fair"
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    text = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    for label in ("<dt>Original campaign</dt>", "<dt>Shoe size (EU)</dt>", "<dt>City</dt>"):
        assert label in text
    shown = re.sub(r"<[^>]*>", " ", text)  # what a person reads (attributes are for tests)
    assert "original_campaign" not in shown and "shoe_size" not in shown
