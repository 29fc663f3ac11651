"""Pure mapping of customer rows to canonical records (I1-I4). No database here.

A mapping assigns each column (by its header) a target: ``customer_id``, ``name``,
``mobile``, ``email``, ``tags``, ``identity:<type>`` or ``property:<name>``. Columns left
out of the mapping are ignored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connectors.customers.template import (
    ALIASES,
    NOT_IMPORTABLE,
    STANDARD_IDENTITIES,
    STANDARD_PROPERTIES,
)
from connectors.files.base import ImportContext
from hub.core.errors import ValidationFailed
from hub.core.normalise import InvalidValue, normalise_email, normalise_mobile
from hub.core.records import CustomerRecord

SIMPLE_TARGETS = ("customer_id", "name", "mobile", "email", "tags")
TAG_SPLIT = re.compile(r"[,，;；|、]")
SAME_CUSTOMER = (
    "same customer found in the file, merge and re-import "
    "(after checking customer id, identities, mobile and email)"
)


class RowError(ValueError):
    """A row that cannot be imported; the message names the column and the rule."""


@dataclass(slots=True)
class Column:
    index: int
    header: str
    target: str


def header_key(header: str) -> str:
    """Compare headers without case, '*', spaces, '_' or '-'."""
    return re.sub(r"[\s*_\-]+", " ", header.lower()).strip().replace(" ", "")


def suggest_mapping(headers: Sequence[str], context: ImportContext) -> dict[str, str]:
    """Auto-suggest targets from header names (English, Chinese, custom field names/labels)."""
    lookup = {header_key(a): target for target, names in ALIASES.items() for a in names}
    for kind, fields in (
        ("identity", context.custom_identities),
        ("property", context.custom_properties),
    ):
        for name, label in fields.items():
            lookup.setdefault(header_key(name), f"{kind}:{name}")
            if label:
                lookup.setdefault(header_key(label), f"{kind}:{name}")
    out: dict[str, str] = {}
    for header in headers:
        target = lookup.get(header_key(header))
        if target and target not in out.values():
            out[header] = target
    return out


def targets(context: ImportContext) -> list[tuple[str, str]]:
    """Every mapping target with a label: simple fields, identities, properties (I2)."""
    out = [("customer_id", "Customer id"), ("name", "Name"), ("mobile", "Mobile"),
           ("email", "Email"), ("tags", "Tags")]  # fmt: skip
    for name in (*STANDARD_IDENTITIES, *context.custom_identities):
        out.append((f"identity:{name}", context.custom_identities.get(name) or name))
    for name in (*STANDARD_PROPERTIES, *context.custom_properties):
        out.append((f"property:{name}", context.custom_properties.get(name) or name))
    return out


def resolve_columns(
    headers: Sequence[str], mapping: Mapping[str, str], context: ImportContext
) -> list[Column]:
    """Check a (possibly edited) mapping against the file and the workspace (I2)."""
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for header, target in mapping.items():
        if not target or target == "ignore":
            continue
        if header not in headers:
            raise ValidationFailed(
                f"mapping names column {header!r}, not in the file", field=header
            )
        _check_target(header, target, context)
        if target != "tags" and target in seen:
            raise ValidationFailed(
                f"columns {seen[target]!r} and {header!r} are both mapped to {target}", field=header
            )
        seen[target] = header
        columns.append(Column(headers.index(header), header, target))
    keys = {"customer_id", "mobile", "email"}
    if not any(c.target in keys or c.target.startswith("identity:") for c in columns):
        raise ValidationFailed(
            "the mapping needs a customer id, identity, mobile or email column (I2)"
        )
    return columns


def _check_target(header: str, target: str, context: ImportContext) -> None:
    kind, _, name = target.partition(":")
    if target in SIMPLE_TARGETS:
        return
    if kind == "identity" and (name in STANDARD_IDENTITIES or name in context.custom_identities):
        return
    if kind == "property" and name in NOT_IMPORTABLE:
        raise ValidationFailed(
            f"column {header!r}: property {name!r} cannot be imported", field=header
        )
    if kind == "property" and (name in STANDARD_PROPERTIES or name in context.custom_properties):
        return
    if kind in ("identity", "property"):
        raise ValidationFailed(
            f"column {header!r}: custom {kind} {name!r} does not exist; "
            f"add it under settings before importing",
            field=header,
        )
    raise ValidationFailed(f"column {header!r}: unknown mapping target {target!r}", field=header)


def map_row(cells: Sequence[str], columns: Sequence[Column]) -> CustomerRecord:
    """One row to a record; raises RowError naming the column and the rule."""
    record = CustomerRecord(identities=[])
    customer_id: list[tuple[str, str]] = []
    identities: list[tuple[str, str]] = []
    for col in columns:
        value = cells[col.index].strip()
        if value:
            _apply(record, col, value, customer_id, identities)
    tail = [(t, v) for t, v in (("mobile", record.mobile), ("email", record.email)) if v]
    record.identities = customer_id + identities + tail
    if not record.identities:
        raise RowError("the row has no customer id, identity, mobile or email (one is required)")
    return record


def _apply(
    record: CustomerRecord,
    col: Column,
    value: str,
    customer_id: list[tuple[str, str]],
    identities: list[tuple[str, str]],
) -> None:
    target = col.target
    if target == "customer_id":
        digits = value.lstrip("0")
        if not (value.isascii() and value.isdigit()) or len(digits) > 18:
            raise RowError(f"{col.header}: customer id {value!r} is not a number")
        customer_id.append(("customer_id", digits or "0"))
    elif target == "mobile":
        record.mobile = _checked(col, normalise_mobile, value)
    elif target == "email":
        record.email = _checked(col, normalise_email, value)
    elif target == "name":
        record.name = value[:200]
    elif target == "tags":
        record.tags.extend(t.strip() for t in TAG_SPLIT.split(value) if t.strip())
    elif target.startswith("identity:"):
        identities.append((target[9:], value))
    else:
        record.properties[target[9:]] = value


def _checked(col: Column, normalise: object, value: str) -> str:
    try:
        return normalise(value)  # type: ignore[operator]
    except InvalidValue as exc:
        raise RowError(f"{col.header}: {exc}") from exc


def row_keys(record: CustomerRecord) -> list[int]:
    """64-bit digests of the row's customer id / identities / mobile / email (in-file dedup)."""
    return [_digest(f"{t}\x1f{v}") for t, v in record.identities]


def _digest(text: str) -> int:
    raw = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(raw, "big", signed=True)
