"""Customer planning: what a batch's records add to their customers (new customers, changed
attributes, identities to attach, tags and group memberships), collected in memory and handed
over as row sets for the store to write (``hub.core.store.customers``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.core.normalise import InvalidValue, normalise_email, normalise_mobile
from hub.core.plan.identity import Resolution
from hub.core.records import CustomerRecord

if TYPE_CHECKING:
    from hub.core.results import IngestOptions, IngestResult

CUSTOMER_FIELDS = (
    "name",
    "mobile",
    "email",
    "properties",
    "original_source",
    "original_source_detail",
)
NEW_CUSTOMER_COLUMNS = (
    "workspace_id",
    *CUSTOMER_FIELDS,
    "activity_score",
    "created_at",
    "updated_at",
)
IDENTITY_COLUMNS = ("workspace_id", "customer_id", "type", "value", "source", "created_at")


def _clean_attr(kind: str, value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return normalise_mobile(value) if kind == "mobile" else normalise_email(value)
    except InvalidValue:
        return str(value).strip()


def _attrs(person: CustomerRecord) -> dict[str, Any]:
    """A record's customer attributes, keyed by CUSTOMER_FIELDS."""
    return {
        "name": person.name,
        "mobile": _clean_attr("mobile", person.mobile),
        "email": _clean_attr("email", person.email),
        "properties": dict(person.properties or {}),
        "original_source": person.original_source,
        "original_source_detail": person.original_source_detail,
    }


class CustomerPlan:
    """Customer changes of a batch. ``ids`` maps each customer key met (an existing id, or a
    new customer's "new:N" once the store has written it) to the customer's id."""

    def __init__(self, workspace_id: int, options: IngestOptions, result: IngestResult) -> None:
        self.ws = workspace_id
        self.options = options
        self.result = result
        self.ids: dict[int | str, int] = {}
        self.new: dict[str, dict[str, Any]] = {}
        self.updates: dict[int, dict[str, Any]] = {}
        self._identities: list[tuple[int | str, str, str, str | None]] = []
        self._tags: set[tuple[int | str, str]] = set()
        self.touched: set[int | str] = set()

    def take(self, res: Resolution, person: CustomerRecord, *, overwrite: bool) -> int | str:
        """Record what ``person`` adds to its customer; an existing customer's attributes are
        changed only with ``overwrite`` (a customer import), never by an order's buyer."""
        key = res.customer
        if isinstance(key, str) and key in self.ids:  # created by an earlier chunk's flush
            key = self.ids[key]
        if isinstance(key, str):
            row = self.new.get(key)
            if row is None:
                self.new[key] = _attrs(person)
            else:
                for name, value in _attrs(person).items():
                    if name == "properties":
                        row["properties"] = {**row["properties"], **value}
                    elif value is not None and row[name] is None:
                        row[name] = value
        else:
            self.ids[key] = key
            if overwrite:
                pending = self.updates.setdefault(key, {"properties": {}})
                for name, value in _attrs(person).items():
                    if name == "properties":
                        pending["properties"].update(value)
                    elif name == "original_source_detail":
                        if value is not None and "detail" not in pending:
                            pending["detail"] = (value, person.original_source)
                    elif value is not None and (
                        name != "original_source" or self.options.original_source_policy == "all"
                    ):
                        pending[name] = value
        if res.attach:
            source = person.original_source
            self._identities += [(key, t, v, source) for t, v in res.attach]
        if person.tags or self.options.tags:
            self._tags |= {(key, tag) for tag in [*person.tags, *self.options.tags] if tag}
        self.touched.add(key)
        return key

    # The row sets; each hands over what it holds and forgets it.

    def new_rows(self, now: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The new customers' keys and rows (NEW_CUSTOMER_COLUMNS)."""
        keys = list(self.new)
        rows = [
            (self.ws, *(new[name] for name in CUSTOMER_FIELDS), 0, now, now)
            for new in self.new.values()
        ]
        self.new.clear()
        return keys, rows

    def updated_rows(self, current: dict[int, Any], now: Any) -> list[dict[str, Any]]:
        """Rows of the stored customers whose attributes change, given their ``current``
        rows (id and CUSTOMER_FIELDS); the others count as unchanged."""
        rows = []
        for cid, pending in self.updates.items():
            self.ids[cid] = cid
            old = current[cid]
            new = {name: getattr(old, name) for name in CUSTOMER_FIELDS}
            new.update({k: v for k, v in pending.items() if k not in ("properties", "detail")})
            _first_detail(new, pending.get("detail"))
            new["properties"] = {**(old.properties or {}), **pending["properties"]}
            if all(new[name] == getattr(old, name) for name in CUSTOMER_FIELDS):
                self.result.add("customers", "unchanged")
                continue
            rows.append({"id": cid, **new, "updated_at": now})
        self.updates.clear()
        return rows

    def identity_rows(self, now: Any) -> list[tuple[Any, ...]]:
        """The identities attached (IDENTITY_COLUMNS); every customer key must have its id."""
        ids = self.ids
        rows = [(self.ws, ids[key], t, v, source, now) for key, t, v, source in self._identities]
        self._identities.clear()
        return rows

    def tag_names(self) -> set[str]:
        return {tag for _, tag in self._tags}

    def tag_pairs(self, tag_ids: dict[str, int]) -> set[tuple[int, int]]:
        """(customer id, tag id) of the tags given, from the tags' ids by name."""
        pairs = {(self.ids[key], tag_ids[tag.strip()]) for key, tag in self._tags}
        self._tags.clear()
        return pairs

    def members(self, group_id: int) -> set[tuple[int, int]]:
        """(customer id, group id) of every customer touched since the last hand-over."""
        pairs = {(self.ids[k], group_id) for k in self.touched}
        self.touched.clear()
        return pairs


def _first_detail(new: dict[str, Any], detail: tuple[str, str | None] | None) -> None:
    """H4: the first original source detail is kept; a customer without one takes the
    record's when the record's original source is the one the customer keeps (or it has
    none), so the detail always drills into the source shown beside it."""
    if detail is None or new["original_source_detail"] is not None:
        return
    value, source = detail
    if new["original_source"] is None:
        new["original_source"] = source
    if new["original_source"] == source:
        new["original_source_detail"] = value
