"""``hub user ...`` and ``hub token ...``: UI users, their sessions, and API tokens."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import click

from hub.cli import _workspace
from hub.cli_support import CommandFailed, emit, hub_command
from hub.core import zones
from hub.core.errors import NotFound
from hub.extensions import db
from hub.models import ApiToken


@click.group("user")
def user_group() -> None:
    """Users of the web UI."""


@user_group.command("create")
@click.argument("email")
@click.option("--workspace", "slug", required=True, help="Workspace slug (created if missing).")
@click.option("--role", type=click.Choice(["admin", "analyst"]), default="admin", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@hub_command()
def user_create(email: str, slug: str, role: str, password: str) -> None:
    """Create a user EMAIL in a workspace."""
    from hub.services.users import create_user

    ws = _workspace(slug, create=True)
    user = create_user(email, password, ws, role)
    db.session.commit()
    emit(
        {"id": user.id, "email": user.email, "role": user.role, "workspace": ws.slug},
        f"Created {role} {user.email} in workspace {ws.slug} (id {user.id}).",
    )


@user_group.command("logout-all")
@click.argument("email")
@hub_command()
def user_logout_all(email: str) -> None:
    """End every session of the user EMAIL: each browser must sign in again."""
    from hub.services import sessions, users

    user = users.find_user(email)
    if user is None:
        raise CommandFailed(f"no user with e-mail {email.strip().lower()}", "not_found")
    ended = sessions.end_all(user.id)
    emit({"email": user.email, "sessions_ended": ended},
         f"Signed {user.email} out everywhere ({ended} session(s) ended).")  # fmt: skip


@click.group("token")
def token_group() -> None:
    """API tokens for /api/v1."""


@token_group.command("create")
@click.option("--workspace", "slug", required=True, help="Workspace slug.")
@click.option("--name", required=True, help="What the token is for.")
@click.option(
    "--role",
    type=click.Choice(ApiToken.ROLES),
    default="admin",
    show_default=True,
    help="admin: everything; analyst: reads and runs analyses; read-only: reads.",
)
@hub_command()
def token_create(slug: str, name: str, role: str) -> None:
    """Create an API token; it is shown once."""
    from hub.services.tokens import create_token

    ws = _workspace(slug)
    token, plaintext = create_token(ws.id, name, role=role)
    emit(
        {
            "id": token.id,
            "name": token.name,
            "role": token.role,
            "workspace": ws.slug,
            "token": plaintext,
        },  # fmt: skip
        f"Token {token.name!r} ({token.role}) for {ws.slug} (shown once):\n{plaintext}",
    )


@token_group.command("list")
@click.option("--workspace", "slug", required=True, help="Workspace slug.")
@hub_command()
def token_list(slug: str) -> None:
    """List a workspace's API tokens (never their values)."""
    from hub.services.tokens import list_tokens

    ws = _workspace(slug)
    items = [_token_data(t) for t in list_tokens(ws.id)]
    tz = zones.zone(ws.time_zone)
    lines = [f"{t['id']:>5}  {t['prefix']}…  {t['role']:<9}  {_state(t, tz)}  {t['name']}"
             for t in items]  # fmt: skip
    emit({"items": items}, "\n".join(lines) or "No tokens.")


@token_group.command("revoke")
@click.argument("token_id", type=int)
@click.option("--workspace", "slug", required=True, help="Workspace slug.")
@hub_command()
def token_revoke(token_id: int, slug: str) -> None:
    """Revoke the token ID of a workspace; it stops working at once."""
    from hub.services.tokens import revoke

    try:
        token = revoke(_workspace(slug).id, token_id)
    except NotFound:
        raise CommandFailed(f"token {token_id} does not exist in {slug}", "not_found") from None
    emit(_token_data(token), f"Token {token.id} ({token.name!r}) revoked.")


def _token_data(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id, "name": token.name, "prefix": token.prefix, "role": token.role,
        "created_at": token.created_at, "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }  # fmt: skip


def _state(item: dict[str, Any], tz: tzinfo) -> str:
    """Revoked or last used, in the workspace's zone with its offset."""
    if item["revoked_at"] is not None:
        return f"revoked {zones.labelled(item['revoked_at'], tz)}"
    used = item["last_used_at"]
    return f"last used {zones.labelled(used, tz)}" if used else "never used"
