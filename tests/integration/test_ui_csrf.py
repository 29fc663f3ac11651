"""CSRF: every admin form (sign-in included) is refused without the session's token."""

from __future__ import annotations

import pytest

from tests.support.ui import PASSWORD, csrf_token, login, make_user, seed


@pytest.fixture
def shop(app, workspace, tmp_path):
    make_user(workspace, "admin@acme.test")
    return seed(workspace, tmp_path, tag="A")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def test_every_form_needs_a_csrf_token(client, shop):
    mine = shop
    page = client.get("/login")
    assert login(client, "admin@acme.test").status_code == 400  # no token
    resp = client.post(
        "/login",
        data={
            "email": "admin@acme.test",
            "password": PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert resp.status_code == 302
    resp = client.post(f"/stores/{mine.connection_id}/settings", data={"sync_mode": "disabled"})
    assert resp.status_code == 400
    assert b"form expired" in resp.data
    html = client.get(f"/stores/{mine.connection_id}").get_data(as_text=True)
    resp = client.post(
        f"/stores/{mine.connection_id}/settings",
        data={"sync_mode": "disabled", "csrf_token": csrf_token(html)},
    )
    assert resp.status_code == 302


def test_api_and_webhooks_are_not_behind_the_form_csrf(client, shop):
    """Bearer-token API and signed webhooks carry no session: CSRF must not refuse them."""
    api = client.post("/api/v1/connections/sync", headers={"Authorization": "Bearer nope"})
    assert api.status_code == 401
    hook = client.post(f"/webhooks/fake/{shop.connection_id}", data=b"{}")
    assert b"CSRF" not in hook.data and hook.status_code != 400
