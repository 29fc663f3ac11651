"""The rules API (A1): create, list, read, change, delete; runs; dry run; backfill with its
count first; errors naming the path; webhook actions written to the outbox in the event's
transaction; private webhook targets refused unless HUB_WEBHOOK_ALLOW_PRIVATE."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hub.core import ingest
from hub.extensions import db
from hub.models import Customer, OutboxDelivery, RuleRun
from hub.services import tokens
from tests.support.orders import order

VIP = {
    "name": "First purchase ≥ 200 → VIP",
    "trigger": {"type": "first_purchase"},
    "conditions": [{"field": "amount", "op": "gte", "value": "200"}],
    "actions": [{"type": "add_tag", "tag": "VIP"},
                {"type": "webhook", "url": "https://hooks.example.com/tributary",
                 "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}],
    "enabled": True,
}  # fmt: skip


@pytest.fixture
def auth(workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'tests')[1]}"}


@pytest.fixture
def public_dns(monkeypatch):
    """hooks.example.com resolves to a public address (no network in tests)."""
    import socket

    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def buy(ws_id: int, ext: str, buyer: str, paid: str, version: int = 1):
    rec = order(ext, identities=[("yz_open_id", buyer)], name=buyer, paid=paid, version=version)
    ingest.apply(db.session, ws_id, [rec])


def test_a1_rule_api_fires_once_with_its_webhook_in_the_outbox(client, auth, workspace,
                                                                 public_dns):  # fmt: skip
    resp = client.post("/api/v1/rules", json=VIP, headers=auth)
    assert resp.status_code == 201, resp.json
    rule = resp.json
    assert rule["trigger"] == {"type": "first_purchase"}
    assert rule["actions"][1]["secret"] == "********"  # never shown back
    buy(workspace.id, "A1", "amy", "250.00")
    buy(workspace.id, "A2", "bob", "50.00")
    buy(workspace.id, "A1", "amy", "250.00", version=2)  # a replay: nothing more
    runs = client.get(f"/api/v1/rules/{rule['id']}/runs", headers=auth).json
    assert runs["total"] == 1
    run = runs["items"][0]
    assert run["event"]["type"] == "first_purchase" and run["event"]["amount"] == "250.00"
    assert [a["type"] for a in run["actions"]] == ["add_tag", "webhook"]
    assert "secret" not in run["actions"][1]
    amy = db.session.scalars(select(Customer).where(Customer.name == "amy")).one()
    assert run["customer_id"] == amy.id
    delivery = db.session.scalars(select(OutboxDelivery)).one()  # one, in the same commit
    assert (delivery.rule_id, delivery.rule_run_id) == (rule["id"], run["id"])
    body = json.loads(delivery.body)
    assert body["customer"]["tags"] == ["VIP"] and body["event"]["amount"] == "250.00"
    assert body["rule"] == {"id": rule["id"], "name": VIP["name"]}
    listed = client.get("/api/v1/rules", headers=auth).json
    assert [r["id"] for r in listed["items"]] == [rule["id"]]


def test_a1_rule_api_errors_name_the_path(client, auth, public_dns):
    bad = {**VIP, "actions": [{"type": "advance_stage", "stage": "boss"}]}
    resp = client.post("/api/v1/rules", json=bad, headers=auth)
    assert resp.status_code == 400
    assert resp.json["error"]["field"] == "actions[0].stage"
    assert "actions[0].stage" in resp.json["error"]["message"]
    bad = {**VIP, "conditions": {"any": [{"field": "amount", "op": "gte", "value": "x"}]}}
    resp = client.post("/api/v1/rules", json=bad, headers=auth)
    assert resp.json["error"]["field"].startswith("conditions.any[0]")


def test_a1_webhook_to_a_private_address_is_refused(client, auth, app):
    private = {**VIP, "actions": [{"type": "webhook", "url": "http://127.0.0.1:9/hook",
                                   "secret": "0123456789abcdef"}]}  # fmt: skip
    resp = client.post("/api/v1/rules", json=private, headers=auth)
    assert resp.status_code == 400
    assert resp.json["error"]["field"] == "actions[0].url"
    assert "HUB_WEBHOOK_ALLOW_PRIVATE" in resp.json["error"]["message"]
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert client.post("/api/v1/rules", json=private, headers=auth).status_code == 201


def test_a1_patch_delete_test_and_backfill_over_the_api(client, auth, workspace, public_dns):
    buy(workspace.id, "P1", "cyd", "300.00")
    buy(workspace.id, "P2", "dee", "20.00")
    rule = client.post("/api/v1/rules", json=VIP, headers=auth).json
    url = f"/api/v1/rules/{rule['id']}"
    changed = client.patch(url, json={"name": "Big first", "actions": rule["actions"]},
                           headers=auth)  # fmt: skip
    assert changed.status_code == 200 and changed.json["name"] == "Big first"
    dry = client.post(f"{url}/test", json={"last": 5}, headers=auth).json["events"]
    assert [(e["event"]["amount"], e["would_fire"]) for e in dry] == [("20.00", False),
                                                                      ("300.00", True)]  # fmt: skip
    count = client.post(f"{url}/backfill", json={"confirm": False}, headers=auth).json
    assert count == {"count": 1, "fired": False}
    assert db.session.scalar(select(func.count()).select_from(RuleRun)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxDelivery)) == 0
    done = client.post(f"{url}/backfill", json={"confirm": True}, headers=auth).json
    assert done == {"count": 1, "fired": True}
    # the secret sent back masked was kept: the delivery is signed with the original one
    from hub.automation import outbox

    delivery = db.session.scalars(select(OutboxDelivery)).one()
    assert outbox.decrypt_secret(delivery.secret_enc) == VIP["actions"][1]["secret"]
    assert client.post(f"{url}/backfill", json={"confirm": False}, headers=auth).json["count"] == 0
    assert client.patch(url, json={"enabled": "yes"}, headers=auth).json["error"]["field"] == (
        "enabled"
    )
    assert client.delete(url, headers=auth).status_code == 200
    assert client.get(url, headers=auth).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(RuleRun)) == 0
