"""``hub workspace create NAME`` and ``hub workspace list``: tenants made from the command line,
so that ``hub import ... --workspace SLUG`` and ``hub connect`` work on a fresh database."""

from __future__ import annotations

import re

import click
from sqlalchemy import func, select

from hub.cli_support import emit, hub_command
from hub.extensions import db

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_of(name: str) -> str:
    """The slug a workspace named ``name`` gets by default: "Acme Ltd." -> "acme-ltd"."""
    return _NOT_SLUG.sub("-", name.strip().lower()).strip("-")[:100]


@click.group("workspace")
def workspace_group() -> None:
    """Workspaces (tenants): each has its own customers, orders, stores and users."""


@workspace_group.command("create")
@click.argument("name")
@click.option("--slug", default=None, help="Short name used by --workspace (default: from NAME).")
@click.option(
    "--time-zone",
    default=None,
    help="IANA time zone the pages show times in and read dates in (default: Asia/Shanghai).",
)
@hub_command()
def workspace_create(name: str, slug: str | None, time_zone: str | None) -> None:
    """Create a workspace NAME; prints its slug."""
    from hub.services.users import create_workspace

    ws = create_workspace(name, slug or slug_of(name), time_zone)
    emit(
        {"id": ws.id, "name": ws.name, "slug": ws.slug, "time_zone": ws.time_zone},
        f"Created workspace {ws.name} (slug {ws.slug}, id {ws.id}, times in {ws.time_zone}).",
    )


@workspace_group.command("list")
@hub_command()
def workspace_list() -> None:
    """List the workspaces with their users and stores."""
    from hub.models import Connection, User, Workspace

    users = select(func.count(User.id)).where(User.workspace_id == Workspace.id)
    stores = select(func.count(Connection.id)).where(
        Connection.workspace_id == Workspace.id, Connection.bound_key.isnot(None)
    )
    rows = db.session.execute(
        select(Workspace, users.scalar_subquery(), stores.scalar_subquery()).order_by(Workspace.id)
    ).all()
    items = [
        {"id": ws.id, "slug": ws.slug, "name": ws.name, "users": u, "stores": s,
         "created_at": ws.created_at}
        for ws, u, s in rows
    ]  # fmt: skip
    lines = [
        f"{i['slug']}\t{i['name']}\t{i['users']} user(s)\t{i['stores']} store(s)" for i in items
    ]
    text = "\n".join(lines) or "No workspaces yet: create one with `hub workspace create NAME`."
    emit({"items": items}, text)
