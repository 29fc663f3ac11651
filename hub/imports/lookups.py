"""What both an import's start (``hub.imports.service``) and its job (``hub.imports.jobs``) look
up: the file connector of a kind, the workspace's group and custom fields, a file's clean name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from flask import Flask
from sqlalchemy import select

from hub import registry
from hub.connectors import Connector, FileConnector
from hub.core.errors import ValidationFailed
from hub.extensions import db
from hub.models import Group, IdentityType

CONTROL = ("Cc", "Cf", "Cs", "Zl", "Zp")  # control, format, surrogate, line/paragraph breaks


def kinds(app: Flask | None = None) -> dict[str, type[FileConnector]]:
    """import kind -> file connector class, from the registry (never imported directly)."""
    return file_kinds(registry.connectors(app).values())


def file_kinds(classes: Iterable[type[Connector]]) -> dict[str, type[FileConnector]]:
    """import kind -> class, of the file connectors among ``classes``."""
    return {c.import_kind: c for c in classes if issubclass(c, FileConnector)}


def connector_for(kind: str) -> type[FileConnector]:
    try:
        return kinds()[kind]
    except KeyError:
        known = ", ".join(sorted(kinds())) or "none registered"
        raise ValidationFailed(
            f"There is no import of kind {kind!r}; choose one of: {known}", field="kind"
        ) from None


def clean_filename(name: str | None) -> str:
    """An uploaded file's name as kept and offered for download: its last path part without
    control or format characters (a NUL broke the download), at most 200 characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    text = "".join(c for c in base if unicodedata.category(c) not in CONTROL)
    return text.strip()[:200] or "upload"


def resolve_group(workspace_id: int, name: str | None, *, create: bool) -> int | None:
    """The static group to add customers to (I5): existing by name, or created."""
    if not name:
        return None
    group = db.session.scalar(
        select(Group).where(Group.workspace_id == workspace_id, Group.name == name)
    )
    if group is None and create:
        group = Group(workspace_id=workspace_id, name=name)
        db.session.add(group)
        db.session.commit()
    return group.id if group else None


def custom_fields(workspace_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """The workspace's custom identities and properties (name -> label)."""
    rows = db.session.scalars(select(IdentityType).where(IdentityType.workspace_id == workspace_id))
    identities, properties = {}, {}
    for row in rows:
        (identities if row.kind == "identity" else properties)[row.name] = row.label or ""
    return identities, properties


def time_zone(workspace_id: int) -> str:
    """The workspace's IANA zone: spreadsheet times without an offset are read in it."""
    from hub.queries.workspace import time_zone as zone_of

    return zone_of(workspace_id)
