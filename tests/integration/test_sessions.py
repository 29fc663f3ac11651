"""Sessions end on the server (issue 20 point 7): a cookie copied before signing out is refused
afterwards; "sign out everywhere" (the button and `hub user logout-all`) ends every session of
one user and no one else's; a new password or a deactivation ends the user's sessions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from hub.extensions import db
from hub.models import UserSession
from hub.services import users
from tests.support.ui import browser, login, make_user


@pytest.fixture
def people(workspace):
    return make_user(workspace, "ann@acme.test"), make_user(workspace, "bo@acme.test", "analyst")


def signed_in(app, email: str):
    client = browser(app)
    assert login(client, email).status_code == 302
    assert client.get("/customers").status_code == 200
    return client


def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    other = browser(app)
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_a_cookie_copied_before_logout_is_refused_after(app, people):
    client = signed_in(app, "ann@acme.test")
    copy = copy_of(app, client)
    assert copy.get("/customers").status_code == 200
    assert client.post("/logout").status_code == 302
    for holder in (client, copy):
        response = holder.get("/customers")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_only_that_session(app, people):
    laptop, phone = signed_in(app, "ann@acme.test"), signed_in(app, "ann@acme.test")
    laptop.post("/logout")
    assert phone.get("/customers").status_code == 200


def test_sign_out_everywhere_ends_every_session_of_that_user_only(app, people):
    laptop, phone = signed_in(app, "ann@acme.test"), signed_in(app, "ann@acme.test")
    colleague = signed_in(app, "bo@acme.test")
    assert b"Sign out everywhere" in phone.get("/customers").data
    response = laptop.post("/logout/everywhere", follow_redirects=True)
    assert b"signed out on every device" in response.data
    assert phone.get("/customers").status_code == 302
    assert colleague.get("/customers").status_code == 200


def test_cli_logout_all_ends_the_users_sessions(app, runner, people):
    laptop, colleague = signed_in(app, "ann@acme.test"), signed_in(app, "bo@acme.test")
    signed_in(app, "ann@acme.test")
    result = runner.invoke(args=["hub", "user", "logout-all", "ANN@acme.test", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"email": "ann@acme.test", "sessions_ended": 2}
    assert laptop.get("/customers").status_code == 302
    assert colleague.get("/customers").status_code == 200
    missing = runner.invoke(args=["hub", "user", "logout-all", "nobody@acme.test"])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "Error: no user with e-mail nobody@acme.test"


def test_a_new_password_ends_the_users_sessions(app, people):
    ann, _bo = people
    client, colleague = signed_in(app, "ann@acme.test"), signed_in(app, "bo@acme.test")
    ann.password_hash = generate_password_hash("a brand new password")
    db.session.commit()
    assert client.get("/customers").status_code == 302
    assert colleague.get("/customers").status_code == 200
    assert users.authenticate_user("ann@acme.test", "a brand new password") is not None


def test_deactivation_ends_the_users_sessions_for_good(app, people):
    ann, _bo = people
    client = signed_in(app, "ann@acme.test")
    ann.active = False
    db.session.commit()
    assert client.get("/customers").status_code == 302
    ann.active = True  # reactivated: the old session does not come back
    db.session.commit()
    assert client.get("/customers").status_code == 302


def test_sessions_end_after_the_session_lifetime(app, people):
    client = signed_in(app, "ann@acme.test")
    db.session.execute(
        update(UserSession).values(
            created_at=func.now() - app.permanent_session_lifetime - timedelta(minutes=1)
        )
    )
    db.session.commit()
    assert client.get("/customers").status_code == 302
    signed_in(app, "bo@acme.test")  # a sign-in clears the expired rows away
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_the_session_key_is_stored_as_a_digest(app, people):
    client = signed_in(app, "ann@acme.test")
    cookie = client.get_cookie("session").value
    stored = db.session.scalar(select(UserSession.key_hash))
    assert len(stored) == 64 and stored not in cookie
