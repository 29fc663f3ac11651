"""The condition vocabulary (see ``hub.automation.conditions``): fields, ops, and ``parse``,
which checks a tree and raises ``Refused`` naming the path of the first fault."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from hub.core.errors import N_, Refused
from hub.core.plan.rfm import RF_SEGMENTS

Scope = Literal["event", "customer"]

TEXT_OPS = ("eq", "ne", "in", "not_in", "contains", "not_contains", "exists", "not_exists")
NUMBER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "not_exists")
SET_OPS = ("contains", "not_contains", "in", "not_in", "exists", "not_exists")
NEGATIVE = {"ne": "eq", "not_in": "in", "not_contains": "contains", "not_exists": "exists"}

# field -> (kind, ops). Kinds decide how the value is read and how the leaf is compiled.
EVENT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "amount": ("money", NUMBER_OPS),
    "source": ("text", TEXT_OPS),
    "store": ("text", TEXT_OPS),
    "order_status": ("text", TEXT_OPS),
    "line.product_id": ("text", TEXT_OPS),
    "line.sku": ("text", TEXT_OPS),
    "line.name": ("text", TEXT_OPS),
    "line.quantity": ("int", NUMBER_OPS),
}
CUSTOMER_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stage": ("text", TEXT_OPS),
    "score": ("int", NUMBER_OPS),
    "tags": ("text", SET_OPS),
    "groups": ("text", SET_OPS),
    "identity": ("text", ("exists", "not_exists")),
    "orders_count": ("int", NUMBER_OPS),
    "total_spent": ("money", NUMBER_OPS),
    "created_at": ("time", ("eq", "ne", "gt", "gte", "lt", "lte")),
    "segment": ("id", ("in", "not_in")),
    "bought": ("bought", ("gte",)),
    "did_event": ("did_event", ("gte",)),
    "rfm": ("rfm", ("eq", "ne", "in", "not_in")),
}
CUSTOMER_SOURCE = ("text", TEXT_OPS)  # "source" of a segment: the customer's, see clauses
PROPERTY = ("text", TEXT_OPS)
RFM_NAMES = (*RF_SEGMENTS, "other")
BOUGHT_KEYS = ("product_id", "sku", "name_contains")
MAX_DEPTH = 10


@dataclass(frozen=True)
class Leaf:
    field: str
    op: str
    value: Any
    path: str
    kind: str
    scope: Scope  # "event": a leaf about the event; "customer": about its customer


@dataclass(frozen=True)
class Node:
    kind: Literal["all", "any"]
    items: tuple[Leaf | Node, ...]
    path: str


Condition = Leaf | Node


def parse(tree: Any, *, where: str, scope: Scope) -> Condition:
    """The tree validated: Refused naming the path of the first fault."""
    return _parse(tree, where, scope, 0)


def fields(scope: Scope) -> list[str]:
    """The field names a tree of ``scope`` may use (``properties.<key>`` aside)."""
    names = [*CUSTOMER_FIELDS, "source"]
    return sorted({*names, *EVENT_FIELDS} if scope == "event" else names)


def _parse(tree: Any, path: str, scope: Scope, depth: int) -> Condition:
    if depth > MAX_DEPTH:
        raise Refused(N_("%(path)s: conditions nest too deep."), field=path, path=path)
    if isinstance(tree, list):
        items = (_parse(x, f"{path}[{i}]", scope, depth + 1) for i, x in enumerate(tree))
        return Node("all", tuple(items), path)
    if not isinstance(tree, dict):
        raise Refused(
            N_("%(path)s must be a list of conditions or an object with all, any or field."),
            field=path, path=path,
        )  # fmt: skip
    if "field" not in tree:
        return _group(tree, path, scope, depth)
    return _leaf(tree, path, scope)


def _group(tree: dict[str, Any], path: str, scope: Scope, depth: int) -> Node:
    keys = set(tree)
    if len(keys) != 1 or not keys <= {"all", "any"}:
        raise Refused(
            N_("%(path)s must have exactly one of all, any (or be a condition with field)."),
            field=path, path=path,
        )  # fmt: skip
    kind = next(iter(keys))
    items = tree[kind]
    if not isinstance(items, list):
        where = f"{path}.{kind}"
        raise Refused(N_("%(path)s must be a list."), field=where, path=where)
    node = _parse(items, f"{path}.{kind}", scope, depth + 1)
    assert isinstance(node, Node)
    return Node(kind, node.items, path)  # type: ignore[arg-type]


def _leaf(tree: dict[str, Any], path: str, scope: Scope) -> Leaf:
    extra = set(tree) - {"field", "op", "value"}
    if extra:
        where = f"{path}.{sorted(extra)[0]}"
        raise Refused(
            N_("%(path)s is not known: a condition has field, op and value."),
            field=where, path=where,
        )  # fmt: skip
    name = tree["field"]
    leaf_scope, kind, ops = _field(name, f"{path}.field", scope)
    op = tree.get("op")
    if op not in ops:
        where = f"{path}.op"
        raise Refused(
            N_("%(path)s: the field %(name)s takes the op %(ops)s, not %(got)s."),
            field=where, path=where, name=name, ops=", ".join(ops), got=repr(op),
        )  # fmt: skip
    value = _value(kind, op, tree.get("value"), f"{path}.value", name)
    return Leaf(name, op, value, path, kind, leaf_scope)


def _field(name: Any, path: str, scope: Scope) -> tuple[Scope, str, tuple[str, ...]]:
    if isinstance(name, str):
        if scope == "event" and name in EVENT_FIELDS:
            return "event", *EVENT_FIELDS[name]
        if name in CUSTOMER_FIELDS:
            return "customer", *CUSTOMER_FIELDS[name]
        if name == "source":
            return "customer", *CUSTOMER_SOURCE
        if name.startswith("properties.") and len(name) > len("properties."):
            return "customer", *PROPERTY
    raise Refused(
        N_("%(path)s: unknown field %(got)s; one of %(names)s or properties.<key>."),
        field=path, path=path, got=repr(name), names=", ".join(fields(scope)),
    )  # fmt: skip


def _value(kind: str, op: str, value: Any, path: str, name: str) -> Any:
    if op in ("exists", "not_exists"):
        if name == "identity":
            return _text(value, path)
        if value is not None:
            raise Refused(N_("%(path)s: %(op)s takes no value."), field=path, path=path, op=op)
        return None
    if kind == "bought" or kind == "did_event":
        return _counted(kind, value, path)
    if kind == "rfm":
        return _many(value, op, path, _rfm)
    if kind == "id" and not isinstance(value, list):
        return _id(value, path)
    if op in ("in", "not_in"):
        return _many(value, op, path, lambda v, p: _one(kind, v, p))
    return _one(kind, value, path)


def _many(value: Any, op: str, path: str, read: Any) -> Any:
    if op not in ("in", "not_in"):
        return read(value, path)
    if not isinstance(value, list) or not value:
        raise Refused(N_("%(path)s must be a non-empty list."), field=path, path=path)
    return tuple(read(v, f"{path}[{i}]") for i, v in enumerate(value))


def _one(kind: str, value: Any, path: str) -> Any:
    readers = {"text": _text, "int": _int, "id": _id, "money": _money, "time": _time}
    return readers[kind](value, path)


def _text(value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal) or value == "":
        raise Refused(N_("%(path)s must be a non-empty text."), field=path, path=path)
    return str(value)


def _int(value: Any, path: str) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(N_("%(path)s must be a whole number."), field=path, path=path)
    return value


def _id(value: Any, path: str) -> int:
    number = _int(value, path)
    if number < 1:
        raise Refused(N_("%(path)s must be a segment id."), field=path, path=path)
    return number


def _money(value: Any, path: str) -> Decimal:
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise InvalidOperation
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise Refused(
            N_('%(path)s must be an amount such as "200" or "99.50".'), field=path, path=path
        ) from None
    return amount.quantize(Decimal("0.01"))


def _time(value: Any, path: str) -> datetime | date:
    """A time with its offset, or a calendar date (a whole day in the workspace's time zone,
    placed when the condition is compiled)."""
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Refused(
            N_("%(path)s must be a date (2026-01-31) or a time with its offset."),
            field=path, path=path,
        )  # fmt: skip
    return moment


def _rfm(value: Any, path: str) -> str:
    if value not in RFM_NAMES:
        raise Refused(
            N_("%(path)s must be an RF segment: %(names)s."),
            field=path, path=path, names=", ".join(RFM_NAMES),
        )  # fmt: skip
    return value


def _counted(kind: str, value: Any, path: str) -> dict[str, Any]:
    keys = BOUGHT_KEYS if kind == "bought" else ("type",)
    if not isinstance(value, dict):
        raise Refused(
            N_("%(path)s must be an object with count, within_days and one of %(keys)s."),
            field=path, path=path, keys=", ".join(keys),
        )  # fmt: skip
    unknown = set(value) - {"count", "within_days", *keys}
    if unknown:
        where = f"{path}.{sorted(unknown)[0]}"
        raise Refused(
            N_("%(path)s is not known: use count, within_days and one of %(keys)s."),
            field=where, path=where, keys=", ".join(keys),
        )  # fmt: skip
    given = [k for k in keys if k in value]
    if len(given) != 1:
        raise Refused(
            N_("%(path)s must have exactly one of %(keys)s."),
            field=path, path=path, keys=", ".join(keys),
        )  # fmt: skip
    out = {"what": given[0], "target": _text(value[given[0]], f"{path}.{given[0]}")}
    out["count"] = _positive(value.get("count", 1), f"{path}.count")
    days = value.get("within_days")
    out["within_days"] = None if days is None else _positive(days, f"{path}.within_days")
    return out


def _positive(value: Any, path: str) -> int:
    number = _int(value, path)
    if number < 1:
        raise Refused(N_("%(path)s must be 1 or more."), field=path, path=path)
    return number
