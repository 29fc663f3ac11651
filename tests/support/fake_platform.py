"""A test-only connector, platform "fake": orders come from a JSON file the tests write and
mutate, read page by page in (updated_at, id) order, with injectable slowness and errors.

An order in the file: ``{"id": "1001", "updated_at": ISO, "ordered_at": ISO (optional),
"status": "paid", "buyer": "b1", "amount": "100.00"}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields, validate

from hub.connectors import BindInfo, Connector, Page, Stream, SyncWindow
from hub.core.errors import AuthError, ConfigError, RateLimited, TransientError
from hub.core.records import Consignee, CustomerRecord, LineRecord, OrderRecord

FAILURES = ("transient", "rate_limited", "config", "system")


class FakeSettings(Schema):
    store_id = fields.String(required=True)
    api_key = fields.String(required=True, metadata={"secret": True})
    data_file = fields.String(required=True)
    page_size = fields.Integer(load_default=10, validate=validate.Range(min=1))
    page_delay = fields.Float(load_default=0.0)
    fail_on_page = fields.Integer(allow_none=True, load_default=None)
    fail_with = fields.String(load_default="transient", validate=validate.OneOf(FAILURES))
    fail_times = fields.Integer(allow_none=True, load_default=None)  # None: every time
    retry_after = fields.Float(allow_none=True, load_default=None)
    initial_days = fields.Integer(allow_none=True, load_default=None)
    # One state dict for every page, updated in place as reading goes on (a careless
    # connector): the engine must still commit each page's own position.
    shared_state = fields.Boolean(load_default=False)


class FakeConnector(Connector):
    platform = "fake"
    display_name = "Fake Shop"
    settings_schema = FakeSettings
    sales_channel = "Fake"

    def check(self) -> BindInfo:
        if self.config.get("api_key") == "bad":
            raise AuthError("the fake platform refused api_key")
        store = str(self.config["store_id"])
        return BindInfo(store, f"Fake store {store}")

    def streams(self) -> list[Stream]:
        return [FakeOrders(self)]


class FakeOrders(Stream):
    name = "orders"

    def __init__(self, connector: FakeConnector) -> None:
        self.connector = connector
        self.config = connector.config

    def read(self, window: SyncWindow, state: dict[str, Any]) -> Iterator[Page]:
        rows = self._in_window(window)
        after = tuple(state["after"]) if state.get("after") else None
        pending = [r for r in rows if after is None or _key(r) > after]
        size = int(self.config.get("page_size") or 10)
        number = int(state.get("page") or 0)
        shared: dict[str, Any] = {}
        while pending:
            number += 1
            batch, pending = pending[:size], pending[size:]
            self._maybe_fail(number)
            if self.config.get("page_delay"):
                time.sleep(float(self.config["page_delay"]))
            records = [to_record(r, self.config["store_id"]) for r in batch]
            position = {"after": list(_key(batch[-1])), "page": number}
            if self.config.get("shared_state"):
                shared.update(position)
                position = shared
            yield Page(records, position, len(rows))

    def _in_window(self, window: SyncWindow) -> list[dict[str, Any]]:
        """Orders with window.start <= updated_at < window.end (the end is the sync's start)."""
        rows = json.loads(Path(self.config["data_file"]).read_text())
        picked = [r for r in rows if window.start <= _dt(r["updated_at"]) < window.end]
        return sorted(picked, key=_key)

    def _maybe_fail(self, number: int) -> None:
        if self.config.get("fail_on_page") != number or not self._spend_failure():
            return
        kind = self.config.get("fail_with") or "transient"
        if kind == "transient":
            raise TransientError(f"fake platform: HTTP 503 on page {number}")
        if kind == "rate_limited":
            raise RateLimited(f"fake platform: throttled on page {number}",
                              self.config.get("retry_after"))  # fmt: skip
        if kind == "config":
            raise ConfigError("fake platform: api_key revoked")
        raise ZeroDivisionError(f"fake platform bug on page {number}")

    def _spend_failure(self) -> bool:
        """Count failures in a file beside the data, so the count survives worker processes."""
        times = self.config.get("fail_times")
        if times is None:
            return True
        counter = Path(str(self.config["data_file"]) + ".failures")
        spent = int(counter.read_text()) if counter.exists() else 0
        if spent >= times:
            return False
        counter.write_text(str(spent + 1))
        return True


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _key(row: dict[str, Any]) -> tuple[str, str]:
    """The composite cursor: (updated_at in UTC ISO, id)."""
    return (_dt(row["updated_at"]).isoformat(), str(row["id"]))


def to_record(row: dict[str, Any], store_id: str) -> OrderRecord:
    """A pure mapping: file row -> canonical order (two lines, buyer identities)."""
    amount = Decimal(str(row.get("amount", "100.00")))
    half = (amount / 2).quantize(Decimal("0.01"))
    buyer = str(row.get("buyer", f"b-{row['id']}"))
    updated = _dt(row["updated_at"])
    return OrderRecord(
        source="fake",
        external_id=str(row["id"]),
        order_no=f"F{row['id']}",
        status=row.get("status", "paid"),
        platform_status=str(row.get("status", "paid")).upper(),
        ordered_at=_dt(row.get("ordered_at") or row["updated_at"]),
        updated_at=updated,
        amount_total=amount,
        amount_paid=amount,
        buyer=CustomerRecord(
            identities=[("fake_buyer", buyer)], name=f"Buyer {buyer}", mobile=row.get("mobile")
        ),
        consignee=Consignee(name=f"Buyer {buyer}", city="Hangzhou"),
        lines=[
            LineRecord(
                external_id=f"{row['id']}-1",
                product_external_id="tea",
                name="Tea",
                qty=1,
                unit_price=half,
                total=half,
                paid=half,
            ),
            LineRecord(
                external_id=f"{row['id']}-2",
                product_external_id="cup",
                name="Cup",
                qty=1,
                unit_price=amount - half,
                total=amount - half,
                paid=amount - half,
            ),
        ],  # fmt: skip
        sales_channel="Fake",
        store_id=store_id,
        store_name=f"Fake store {store_id}",
    )


# ---------------------------------------------------------------- test helpers


def make_orders(n: int, *, start: datetime, step_minutes: int = 7, buyers: int = 5) -> list[dict]:
    """``n`` file rows updated from ``start`` on, some sharing an updated_at (ties by id)."""
    from datetime import timedelta

    return [
        {
            "id": str(1000 + i),
            "updated_at": (start + timedelta(minutes=step_minutes * (i // 2))).isoformat(),
            "status": "paid",
            "buyer": f"b{i % buyers}",
            "amount": f"{10 + i}.50",
        }
        for i in range(n)
    ]


def write_orders(path: Path, rows: list[dict]) -> None:
    path.write_text(json.dumps(rows))


def add_connection(workspace_id: int, data_file: Path, *, store: str = "S1", **settings: Any):
    """A bound fake store (credentials encrypted as the bind service stores them)."""
    from hub import crypto
    from hub.extensions import db
    from hub.models import Connection

    mode = settings.pop("sync_mode", "manual")
    interval = settings.pop("sync_interval_minutes", None)
    conn = Connection(
        workspace_id=workspace_id,
        platform="fake",
        external_id=store,
        bound_key=store,
        name=f"Fake store {store}",
        credentials_enc=crypto.encrypt_json({"api_key": "k-" + store}),
        settings={"store_id": store, "data_file": str(data_file), "page_size": 10, **settings},
        sync_mode=mode,
        sync_interval_minutes=interval,
    )
    db.session.add(conn)
    db.session.commit()
    return conn


def content(workspace_id: int) -> dict[str, list[tuple]]:
    """The core's content for one workspace, without surrogate ids or write times."""
    from sqlalchemy import case, select

    from hub.extensions import db
    from hub.models import Customer, Event, Identity, Order, OrderLine

    def rows(stmt: Any) -> list[tuple]:
        return sorted(tuple(r) for r in db.session.execute(stmt).all())

    o, line, c, i, e = Order, OrderLine, Customer, Identity, Event
    return {
        "orders": rows(select(o.external_id, o.order_no, o.status, o.amount_paid, o.amount_total,
                              o.source_updated_at, c.name).join(c, c.id == o.customer_id)
                       .where(o.workspace_id == workspace_id)),
        "lines": rows(select(o.external_id, line.external_id, line.name, line.paid)
                      .join(o, o.id == line.order_id).where(line.workspace_id == workspace_id)),
        "customers": rows(select(c.name, c.stage, c.activity_score)
                          .where(c.workspace_id == workspace_id)),
        "identities": rows(select(i.type, i.value, c.name).join(c, c.id == i.customer_id)
                           .where(i.workspace_id == workspace_id)),
        # a first purchase's key names its customer by id: compared by the type alone
        "events": rows(select(e.type, e.amount,
                              case((e.type == "first_purchase", e.type), else_=e.dedupe_key),
                              o.external_id)
                       .join(o, o.id == e.order_id).where(e.workspace_id == workspace_id)),
    }  # fmt: skip
