"""The column-mapping step of a customer import: headers, suggested and possible targets (I2).

Note: reads the file through ``connectors.files.reader`` and the customer template's target
lists; the imports service could expose this as ``service.preview`` to keep the web layer
free of connector imports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.imports import service


def _files(stage: dict[str, Any]) -> list[tuple[Path, str]]:
    return [(Path(f["path"]), f["name"]) for f in stage["files"]]


def _context(workspace_id: int, kind: str) -> Any:
    cls = service.connector_for(kind)
    return cls.make_context(*service.custom_fields(workspace_id))


def targets(workspace_id: int) -> list[tuple[str, str]]:
    """Every mapping target: simple fields, standard and custom identities and properties."""
    from connectors.customers import template

    identities, properties = service.custom_fields(workspace_id)
    out = [("customer_id", "Customer id"), ("name", "Name"), ("mobile", "Mobile"),
           ("email", "Email"), ("tags", "Tags")]  # fmt: skip
    for name in (*template.STANDARD_IDENTITIES, *identities):
        out.append((f"identity:{name}", f"Identity: {identities.get(name) or name}"))
    for name in (*template.STANDARD_PROPERTIES, *properties):
        out.append((f"property:{name}", f"Property: {properties.get(name) or name}"))
    return out


def preview(workspace_id: int, stage: dict[str, Any]) -> tuple[list[str], dict[str, str], list]:
    """(headers, suggested mapping, targets) of the staged customer file."""
    from connectors.customers import mapping
    from connectors.files.reader import open_table

    path, name = _files(stage)[0]
    table = open_table(path, name)
    context = _context(workspace_id, stage["kind"])
    return table.headers, mapping.suggest_mapping(table.headers, context), targets(workspace_id)


def check_mapping(workspace_id: int, stage: dict[str, Any]) -> None:
    """Raise ValidationFailed (naming the column) if the chosen mapping cannot be taken."""
    cls = service.connector_for(stage["kind"])
    cls.open_import(
        _files(stage), {"mapping": stage["mapping"]}, _context(workspace_id, stage["kind"])
    )
