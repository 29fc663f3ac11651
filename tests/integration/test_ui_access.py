"""Admin UI access rules: sign-in, workspace scoping (404, no leak), roles, CSRF, redirects,
login throttling and cookie flags — through the Flask test client on a real DB and Redis."""

from __future__ import annotations

import pytest

from hub.models import Connection
from tests.support.ui import PASSWORD, login, make_user, seed


@pytest.fixture
def two_shops(app, workspace, other_workspace, tmp_path):
    mine = seed(workspace, tmp_path, tag="A")
    theirs = seed(other_workspace, tmp_path, tag="B")
    make_user(workspace, "admin@acme.test")
    make_user(workspace, "analyst@acme.test", role="analyst")
    make_user(other_workspace, "admin@other.test")
    return mine, theirs


def test_pages_need_sign_in_and_redirect_to_login(client):
    for path in ("/", "/stores", "/customers", "/orders", "/syncs", "/imports"):
        resp = client.get(path)
        assert resp.status_code == 302, path
        assert "/login" in resp.headers["Location"]


def test_other_workspace_objects_are_404_and_do_not_leak(client, two_shops):
    _mine, theirs = two_shops
    login(client, "admin@acme.test")
    urls = [
        f"/customers/{theirs.customer_id}",
        f"/orders/{theirs.order_id}",
        f"/stores/{theirs.connection_id}",
        f"/stores/{theirs.connection_id}/unbind",
        f"/syncs?store={theirs.connection_id}",
        f"/inbox?store={theirs.connection_id}",
        "/imports/999/original",
    ]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert b"Buyer B" not in resp.data and b"store-B" not in resp.data
    for url in (f"/stores/{theirs.connection_id}/sync", f"/customers/{theirs.customer_id}/merge"):
        assert client.post(url, data={"merge_id": "1"}).status_code == 404, url
    # and the lists show only this workspace's data
    assert b"Buyer B" not in client.get("/customers").data
    assert b"B-1" not in client.get("/orders").data
    assert b"store-B" not in client.get("/stores").data


def test_other_workspace_sync_run_is_404(app, client, two_shops):
    from hub.sync import service

    _mine, theirs = two_shops
    with app.test_request_context():
        run = service.request_sync(theirs_ws_id(theirs), theirs.connection_id)
    login(client, "admin@acme.test")
    assert client.get(f"/syncs/{run.id}").status_code == 404
    assert client.get(f"/syncs/{run.id}/progress").status_code == 404


def theirs_ws_id(seeded) -> int:
    from hub.extensions import db

    return db.session.get(Connection, seeded.connection_id).workspace_id


def test_analyst_reads_but_cannot_change(client, two_shops):
    mine, _ = two_shops
    login(client, "analyst@acme.test")
    assert client.get(f"/stores/{mine.connection_id}").status_code == 200
    assert client.get(f"/customers/{mine.customer_id}").status_code == 200
    page = client.get(f"/stores/{mine.connection_id}").get_data(as_text=True)
    assert f"/stores/{mine.connection_id}/sync" not in page
    assert "/unbind" not in page and "credentials-form" not in page
    changes = [
        (f"/stores/{mine.connection_id}/sync", {}),
        (f"/stores/{mine.connection_id}/settings", {"sync_mode": "disabled"}),
        (f"/stores/{mine.connection_id}/unbind", {"confirm_name": "x"}),
        ("/stores/sync-all", {}),
        ("/tags", {"name": "vip"}),
        ("/settings/events", {"score_purchase": "5"}),
        (f"/customers/{mine.customer_id}/merge", {"merge_id": "2"}),
    ]
    for url, data in changes:
        assert client.post(url, data=data).status_code == 403, url
    assert client.get("/stores/bind/fake").status_code == 403


def test_login_refuses_open_redirects(client, two_shops):
    for target in ("https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:x"):
        resp = (
            login(client, "admin@acme.test", next=None)
            if False
            else client.post(
                f"/login?next={target}", data={"email": "admin@acme.test", "password": PASSWORD}
            )
        )
        assert resp.status_code == 302
        assert resp.headers["Location"] == "/stores", target
        client.post("/logout")
    resp = client.post(
        "/login?next=/orders?status=paid", data={"email": "admin@acme.test", "password": PASSWORD}
    )
    assert resp.headers["Location"] == "/orders?status=paid"


def test_login_throttled_after_repeated_failures(client, two_shops):
    for _ in range(5):
        assert login(client, "admin@acme.test", "wrong password").status_code == 401
    # even the right password is refused while locked, with a message saying what to do
    resp = login(client, "admin@acme.test")
    assert resp.status_code == 429
    assert b"Wait 1 minute and try again" in resp.data
    assert client.get("/stores").status_code == 302


def test_wrong_password_message_and_no_user_enumeration(client, two_shops):
    a = login(client, "admin@acme.test", "nope nope nope")
    b = login(client, "nobody@acme.test", "nope nope nope")
    assert a.status_code == b.status_code == 401
    assert b"Email or password is wrong" in a.data and b"Email or password is wrong" in b.data


def test_session_cookie_flags(client, two_shops):
    resp = login(client, "admin@acme.test")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_secure_outside_demo_and_tests():
    from flask import Flask

    from hub.web import auth

    app = Flask(__name__)
    app.config.update(SECRET_KEY="x")
    auth.init_app(app)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
