"""Security headers on every response (issue 20 point 9): pages, error pages, assets, the JSON
API and webhook answers all carry the Content-Security-Policy, X-Frame-Options,
X-Content-Type-Options and Referrer-Policy."""

from __future__ import annotations

import pytest

from hub.services import connections
from hub.web.security import HEADERS
from tests.integration.test_webhook_intake import SECRET, push
from tests.support.ui import login, make_user


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": ["tests.support.fake_push:FakePushConnector"]}


@pytest.fixture
def store(workspace):
    return connections.bind(
        workspace.id, "fakepush", {"store_id": "8001", "webhook_secret": SECRET}
    )


def assert_hardened(response, what: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, what
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("Referrer-Policy") == "same-origin", what


def test_every_kind_of_response_carries_the_security_headers(client, workspace, store):
    from hub.services import tokens

    make_user(workspace, "admin@acme.test")
    bearer = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 't')[1]}"}
    answers = {
        "sign-in page": client.get("/login"),
        "asset": client.get("/assets/hub.js"),
        "plotly.js": client.get("/dashboard/plotly.min.js"),
        "redirect to sign-in": client.get("/customers"),
        "API without a token": client.get("/api/v1/customers"),
        "API read": client.get("/api/v1/customers", headers=bearer),
        "API unknown path": client.get("/api/v1/nothing-here", headers=bearer),
        "webhook push": push(client, store, "d-1"),
        "webhook bad signature": push(client, store, "d-2", secret="wrong"),
    }
    login(client, "admin@acme.test")
    answers["signed-in page"] = client.get("/customers")
    answers["HTML 404"] = client.get("/customers/999999")
    for what, response in answers.items():
        assert_hardened(response, what)
    assert answers["webhook push"].status_code == 200
    assert answers["webhook bad signature"].status_code == 401


def test_the_policy_names_each_directive_once():
    directives = [d.split()[0] for d in HEADERS["Content-Security-Policy"].split("; ")]
    assert len(directives) == len(set(directives))
    assert {"default-src", "script-src", "style-src", "object-src", "base-uri",
            "form-action", "frame-ancestors"} <= set(directives)  # fmt: skip
