"""Render a connector's marshmallow ``settings_schema`` as form fields, and read them back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, missing, validate
from werkzeug.datastructures import MultiDict

from hub.crypto import MASK


@dataclass(slots=True)
class FieldSpec:
    """What a template needs to draw one input."""

    name: str
    label: str
    kind: str  # text | password | number | checkbox | select | url | email
    required: bool
    secret: bool
    help: str | None = None
    choices: list[str] = field(default_factory=list)
    value: Any = None


def _kind(f: fields.Field, secret: bool) -> str:
    if secret:
        return "password"
    if isinstance(f, fields.Boolean):
        return "checkbox"
    if isinstance(f, fields.Integer | fields.Float | fields.Decimal):
        return "number"
    if isinstance(f, fields.Email):
        return "email"
    if isinstance(f, fields.URL):
        return "url"
    if _choices(f):
        return "select"
    return "text"


def _choices(f: fields.Field) -> list[str]:
    for v in f.validators:
        if isinstance(v, validate.OneOf):
            return [str(c) for c in v.choices]
    return []


def field_specs(schema: Schema, values: dict[str, Any] | None = None) -> list[FieldSpec]:
    """One spec per load field of ``schema``; ``values`` (already masked) fill them in."""
    values = values or {}
    specs = []
    for name, f in schema.fields.items():
        if f.dump_only:
            continue
        secret = bool(f.metadata.get("secret"))
        default = f.load_default if f.load_default is not missing else None
        specs.append(
            FieldSpec(
                name=name,
                label=f.metadata.get("label") or name.replace("_", " ").capitalize(),
                kind=_kind(f, secret),
                required=bool(f.required),
                secret=secret,
                help=f.metadata.get("description") or f.metadata.get("help"),
                choices=_choices(f),
                value=values.get(name, None if callable(default) else default),
            )
        )
    return specs


def read_form(schema: Schema, form: MultiDict[str, str]) -> dict[str, Any]:
    """Form values for ``schema``: blanks left out (so defaults apply), checkboxes as booleans,
    and the secret placeholder passed through (the service keeps the stored secret)."""
    data: dict[str, Any] = {}
    for name, f in schema.fields.items():
        if f.dump_only:
            continue
        if isinstance(f, fields.Boolean):
            data[name] = form.get(name) in {"on", "true", "1", "yes"}
            continue
        raw = (form.get(name) or "").strip()
        if raw == MASK or raw:
            data[name] = raw
    return data
