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
    LABELS,
    NOT_IMPORTABLE,
    STANDARD_IDENTITIES,
    STANDARD_PROPERTIES,
)
from connectors.files.base import ImportContext
from connectors.files.headers import header_key
from hub.core.errors import N_, Refused
from hub.core.normalise import InvalidValue, normalise_email, normalise_mobile
from hub.core.records import CustomerRecord

SIMPLE_TARGETS = ("customer_id", "name", "mobile", "email", "tags")
SIMPLE_LABELS = {"customer_id": "Customer id", "name": "Name", "mobile": "Mobile",
                 "email": "Email", "tags": "Tags"}  # fmt: skip
TAG_SPLIT = re.compile(r"[,，;；|、]")
SAME_CUSTOMER = (
    "same customer found in the file: another row has the same customer id, identity, mobile "
    "or email; combine the rows into one and import it again"
)


class RowError(ValueError):
    """A row that cannot be imported; the message names the column and the rule."""


@dataclass(slots=True)
class Column:
    index: int
    header: str
    target: str


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
    out = list(SIMPLE_LABELS.items())
    for name in (*STANDARD_IDENTITIES, *context.custom_identities):
        out.append((f"identity:{name}", target_label(f"identity:{name}", context)))
    for name in (*STANDARD_PROPERTIES, *context.custom_properties):
        out.append((f"property:{name}", target_label(f"property:{name}", context)))
    return out


def target_label(target: str, context: ImportContext) -> str:
    """What the page calls a mapping target: "Mobile", "WeChat openid", a custom field's label."""
    if target in SIMPLE_LABELS:
        return SIMPLE_LABELS[target]
    kind, _, name = target.partition(":")
    custom = context.custom_identities if kind == "identity" else context.custom_properties
    return custom.get(name) or LABELS.get(name) or name


def resolve_columns(
    headers: Sequence[str], mapping: Mapping[str, str], context: ImportContext
) -> list[Column]:
    """Check a (possibly edited) mapping against the file and the workspace (I2)."""
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for header, target in mapping.items():
        if not target or target == "ignore":
            continue
        header = _file_header(header, headers)
        _check_target(header, target, context)
        if target != "tags" and target in seen:
            raise Refused(
                N_("The columns “%(first)s” and “%(second)s” both go to “%(target)s”. "
                   "Map one of them to another field, or ignore it."),
                field=header, first=seen[target], second=header,
                target=target_label(target, context),
            )  # fmt: skip
        seen[target] = header
        columns.append(Column(headers.index(header), header, target))
    keys = {"customer_id", "mobile", "email"}
    if not any(c.target in keys or c.target.startswith("identity:") for c in columns):
        raise Refused(
            N_(
                "Map at least one column to Customer id, Mobile, Email or an identity "
                "(such as WeChat openid): without one, no row can be matched to a customer."
            )
        )
    return columns


def _file_header(name: str, headers: Sequence[str]) -> str:
    """The file's header a mapping names (exactly, or by ``header_key``)."""
    if name in headers:
        return name
    found = [h for h in headers if header_key(h) == header_key(name)]
    if not found:
        raise Refused(
            N_("The mapping names a column “%(column)s” that is not in the file. "
               "Choose the file's columns again."),
            field=name, column=name,
        )  # fmt: skip
    return found[0]


def _check_target(header: str, target: str, context: ImportContext) -> None:
    kind, _, name = target.partition(":")
    if target in SIMPLE_TARGETS:
        return
    if kind == "identity" and (name in STANDARD_IDENTITIES or name in context.custom_identities):
        return
    if kind == "property" and name in NOT_IMPORTABLE:
        raise Refused(
            N_("Column “%(column)s”: “%(label)s” is kept by the hub and cannot be imported. "
               "Ignore this column or map it to another field."),
            field=header, column=header, label=LABELS.get(name, name),
        )  # fmt: skip
    if kind == "property" and (name in STANDARD_PROPERTIES or name in context.custom_properties):
        return
    if kind in ("identity", "property"):
        raise Refused(
            N_("Column “%(column)s”: there is no custom field “%(name)s”. "
               "Add it on the Custom fields page first, then map the column."),
            field=header, column=header, name=name,
        )  # fmt: skip
    raise Refused(
        N_("Column “%(column)s”: “%(target)s” is not a field a column can be mapped to. "
           "Choose one from the list."),
        field=header, column=header, target=target,
    )  # fmt: skip


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
        raise RowError(
            "the row has no customer id, identity, mobile or email: fill in at least one"
        )
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
