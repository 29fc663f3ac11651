"""Tokens (hash at rest, revocation) and users (hashed passwords, validation)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from hub.core.errors import Conflict, NotFound, ValidationFailed
from hub.extensions import db
from hub.services import tokens, users


def test_token_is_stored_as_sha256_and_authenticates(workspace):
    token, plaintext = tokens.create_token(workspace.id, "ci")
    assert plaintext.startswith("trb_") and len(plaintext) > 40
    stored = db.session.execute(text("SELECT token_hash, prefix FROM api_tokens")).one()
    assert stored[0] == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in stored[0] and stored[1] == plaintext[:12]
    found = tokens.authenticate(plaintext)
    assert found is not None and found.id == token.id and found.workspace_id == workspace.id
    assert found.last_used_at is not None


@pytest.mark.parametrize("value", [None, "", "trb_", "not-a-token", "trb_" + "x" * 43])
def test_unknown_tokens_do_not_authenticate(workspace, value):
    tokens.create_token(workspace.id, "ci")
    assert tokens.authenticate(value) is None


def test_revoked_token_does_not_authenticate_and_revoke_is_scoped(workspace, other_workspace):
    token, plaintext = tokens.create_token(workspace.id, "ci")
    with pytest.raises(NotFound):
        tokens.revoke(other_workspace.id, token.id)
    assert tokens.authenticate(plaintext) is not None
    tokens.revoke(workspace.id, token.id)
    assert tokens.authenticate(plaintext) is None
    assert [t.id for t in tokens.list_tokens(workspace.id)] == [token.id]
    assert tokens.list_tokens(other_workspace.id) == []


def test_token_needs_a_name(workspace):
    with pytest.raises(ValidationFailed):
        tokens.create_token(workspace.id, "  ")


def test_workspace_and_user_creation(app):
    ws = users.create_workspace("Tea Co", "Tea-Co")
    assert ws.slug == "tea-co"
    with pytest.raises(Conflict):
        users.create_workspace("Again", "tea-co")
    with pytest.raises(ValidationFailed) as err:
        users.create_workspace("Bad", "no spaces")
    assert err.value.field == "slug"
    user = users.create_user("Admin@Example.com", "long enough", ws, "admin")
    assert user.email == "admin@example.com"
    assert "long enough" not in user.password_hash
    assert users.authenticate_user("ADMIN@example.com", "long enough").id == user.id
    assert users.authenticate_user("admin@example.com", "nope-nope") is None


@pytest.mark.parametrize(
    ("email", "password", "role", "field"),
    [
        ("not-an-email", "long enough", "admin", "email"),
        ("a@b.co", "short", "admin", "password"),
        ("a@b.co", "long enough", "owner", "role"),
    ],
)
def test_user_validation_names_the_field(workspace, email, password, role, field):
    with pytest.raises(ValidationFailed) as err:
        users.create_user(email, password, workspace, role)
    assert err.value.field == field


def test_duplicate_email_is_refused(workspace, other_workspace):
    users.create_user("x@example.com", "long enough", workspace)
    with pytest.raises(Conflict):
        users.create_user("X@example.com", "other password", other_workspace)


def test_inactive_user_cannot_sign_in(workspace):
    user = users.create_user("y@example.com", "long enough", workspace, "analyst")
    user.active = False
    db.session.commit()
    assert users.authenticate_user("y@example.com", "long enough") is None
