"""The column-mapping step of a customer import: headers, suggested and possible targets (I2).

Everything comes from ``hub.imports.service``; the web layer never imports a connector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.imports import service
from hub.web.i18n import N_, _

SIMPLE_LABELS = {
    "customer_id": N_("Customer id"),
    "name": N_("Name"),
    "mobile": N_("Mobile"),
    "email": N_("Email"),
    "tags": N_("Tags"),
}


def _files(stage: dict[str, Any]) -> list[tuple[Path, str]]:
    return [(Path(f["path"]), f["name"]) for f in stage["files"]]


def label(value: str, label: str) -> str:
    """The translated label of one mapping target, its kind in front of custom names."""
    kind, _sep, _name = value.partition(":")
    if kind == "identity":
        return _("Identity: %(n)s", n=_(label))
    if kind == "property":
        return _("Property: %(n)s", n=_(label))
    return _(SIMPLE_LABELS.get(value, label))


def preview(workspace_id: int, stage: dict[str, Any]) -> tuple[list[str], dict[str, str], list]:
    """(headers, suggested mapping, [(target, label)]) of the staged customer file."""
    found = service.preview(workspace_id, stage["kind"], _files(stage))
    targets = [(value, label(value, text)) for value, text in found.get("targets", [])]
    return found["headers"], found.get("mapping", {}), targets


def check_mapping(workspace_id: int, stage: dict[str, Any]) -> None:
    """Raise ValidationFailed (naming the column) if the chosen mapping cannot be taken."""
    service.check_mapping(workspace_id, stage["kind"], _files(stage), stage["mapping"] or {})
