"""The rules UI (A1): the list with its toggle, the form-built editor (the API's vocabulary),
errors naming the path, the run history, and the backfill with its count shown first."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from hub.core import ingest
from hub.extensions import db
from hub.models import Customer, Rule, RuleRun, utcnow
from hub.services import tokens
from tests.support.orders import order
from tests.support.ui import login, make_user

FORM = {
    "name": "Big first purchase",
    "trigger": "first_purchase",
    "match": "all",
    "cond_field": ["amount", "line.name", ""],
    "cond_op": ["gte", "contains", "eq"],
    "cond_value": ["200", "Tea", ""],
    "action_type": ["add_tag", "change_score", ""],
    "action_value": ["VIP", "10", ""],
    "action_secret": ["", "", ""],
    "enabled": "on",
}


def test_a1_rule_built_in_the_form_fires_and_shows_its_runs(client, workspace):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    assert client.get("/rules").status_code == 200
    assert client.get("/rules/new").status_code == 200
    bad = client.post("/rules/new", data={**FORM, "action_value": ["VIP", "ten", ""]})
    assert bad.status_code == 400 and b"actions[1].delta" in bad.data
    resp = client.post("/rules/new", data=FORM)
    assert resp.status_code == 302, resp.data
    rule = db.session.scalars(select(Rule)).one()
    assert rule.conditions == {
        "all": [
            {"field": "amount", "op": "gte", "value": "200"},
            {"field": "line.name", "op": "contains", "value": "Tea"},
        ]
    }
    assert rule.actions == [{"type": "add_tag", "tag": "VIP"},
                            {"type": "change_score", "delta": 10}]  # fmt: skip
    ingest.apply(db.session, workspace.id, [order("U1", paid="300.00"), order(
        "U2", paid="30.00", identities=[("yz_open_id", "small")])])  # fmt: skip
    page = client.get(f"/rules/{rule.id}/runs")
    assert page.status_code == 200 and b"VIP" in page.data
    assert db.session.scalar(select(RuleRun.event_key)).startswith("first_purchase:")
    edit = client.get(f"/rules/{rule.id}")
    assert b"line.name" in edit.data and b'value="Tea"' in edit.data
    assert b"Big first purchase" in client.get("/rules").data
    client.post(f"/rules/{rule.id}/toggle")
    db.session.expire_all()
    assert db.session.get(Rule, rule.id).enabled is False


def test_a1_backfill_shows_the_count_before_firing(client, workspace):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    ingest.apply(db.session, workspace.id, [order("V1", paid="300.00")])
    client.post("/rules/new", data=FORM)
    rule = db.session.scalars(select(Rule)).one()
    page = client.get(f"/rules/{rule.id}/backfill")
    assert b"would fire on 1 past events" in page.data
    assert db.session.scalars(select(RuleRun)).all() == []
    client.post(f"/rules/{rule.id}/backfill")
    assert len(db.session.scalars(select(RuleRun)).all()) == 1
    client.post(f"/rules/{rule.id}/delete")
    assert db.session.scalars(select(Rule)).all() == []


def test_a1_test_this_rule_shows_the_lapses_the_scheduler_would_fire(client, workspace):
    """The rule page's "Test this rule" (the dry run, as POST /api/v1/rules/<id>/test): for a
    no-purchase rule, the customers whose lapse is due now, not the last purchases."""
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    now = utcnow()
    for ext, buyer, days in (("W1", "old", 90), ("W2", "due", 35), ("W3", "new", 3)):
        rec = order(ext, identities=[("yz_open_id", buyer)], name=buyer,
                    at=now - timedelta(days=days))  # fmt: skip
        ingest.apply(db.session, workspace.id, [rec])
    form = {**FORM, "name": "Come back", "trigger": "no_purchase", "days": "30",
            "cond_field": [""], "cond_op": ["eq"], "cond_value": [""]}  # fmt: skip
    assert client.post("/rules/new", data=form).status_code == 302
    rule = db.session.scalars(select(Rule)).one()
    rule.created_at = now - timedelta(days=10)  # "due" lapsed 5 days ago, after the rule
    db.session.commit()
    ids = dict(db.session.execute(select(Customer.name, Customer.id)).all())
    edit = client.get(f"/rules/{rule.id}").get_data(as_text=True)
    assert 'data-test="test-rule"' in edit and "Test this rule" in edit
    page = client.get(f"/rules/{rule.id}/test")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = re.findall(r'href="/customers/(\d+)">#\d+</a>.*?data-test="would-fire">([^<]*)<',
                       html, re.S)  # fmt: skip
    backfill_only = "Only by a backfill (due before the rule existed)"
    assert shown == [(str(ids["due"]), "Yes"), (str(ids["old"]), backfill_only)], html
    assert str(ids["new"]) not in {cid for cid, _ in shown}
    assert db.session.scalars(select(RuleRun)).all() == []  # a dry run writes nothing
    token = tokens.create_token(workspace.id, "admin", role="admin")[1]
    api = client.post(f"/api/v1/rules/{rule.id}/test", json={"last": 5},
                      headers={"Authorization": f"Bearer {token}"}).json["events"]  # fmt: skip
    assert [(e["customer_id"], e["would_fire"], e["fired"]) for e in api] == [
        (ids["due"], True, False), (ids["old"], False, False)]  # fmt: skip
    assert all(e["due_at"] > e["event"]["occurred_at"] for e in api)
