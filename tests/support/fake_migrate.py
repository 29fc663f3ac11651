"""A test-only connector with capability "migrate", platform "fakemig": a shop kept in a JSON
file (``{"products": [...], "orders": [...], "templates": [...]}``) that the tests write and
change. It reads the migration rules from ``config["migration"]`` as a migrating connector
does (defaults when absent) and counts its freight-template reads in a file beside the data.

A product: ``{"id": "p1", "title": "Tea", "price": "12.50", "listed": true, "groups": []}``;
an order: ``{"id": "o1", "status": "paid", "lines": [["p1", 2]], "at": ISO}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields

from hub.connectors import BindInfo, Connector, Page, Stream, SyncWindow
from hub.core.records import CustomerRecord, LineRecord, OrderRecord, ProductRecord

DEFAULTS = {"product_status": "same", "freight": None, "group": "Mini Shop migration",
            "skip_migrated": True}  # fmt: skip


class FakeMigrateSettings(Schema):
    store_id = fields.String(required=True)
    api_key = fields.String(required=True, metadata={"secret": True})
    data_file = fields.String(required=True)
    page_size = fields.Integer(load_default=50)
    page_delay = fields.Float(load_default=0.0)


class FakeMigrateConnector(Connector):
    platform = "fakemig"
    display_name = "Fake Mini Shop"
    settings_schema = FakeMigrateSettings
    capabilities = frozenset({"pull", "migrate"})
    sales_channel = "Fake Mini Shop"
    sync_interval_default = 5  # W7, as a mini shop: orders every 5 minutes, products daily
    sync_interval_min = 5
    stream_intervals = {"products": 1440}

    def check(self) -> BindInfo:
        return BindInfo(str(self.config["store_id"]), f"Fake mini shop {self.config['store_id']}")

    def shop(self) -> dict[str, Any]:
        return json.loads(Path(self.config["data_file"]).read_text())

    def rules(self) -> dict[str, Any]:
        return {**DEFAULTS, **(self.config.get("migration") or {})}

    def streams(self) -> list[Stream]:
        return [FakeProducts(self), FakeOrders(self)]

    def freight_templates(self) -> list[dict[str, Any]]:
        counter = Path(str(self.config["data_file"]) + ".templates")
        counter.write_text(str(int(counter.read_text()) + 1 if counter.exists() else 1))
        return list(self.shop().get("templates", []))


class _Paged(Stream):
    key = ""

    def __init__(self, connector: FakeMigrateConnector) -> None:
        self.connector = connector

    def read(self, window: SyncWindow, state: dict[str, Any]) -> Iterator[Page]:
        rows = sorted(self.connector.shop()[self.key], key=lambda r: str(r["id"]))
        size = int(self.connector.config.get("page_size") or 50)
        start = int(state.get("offset") or 0)
        for at in range(start, len(rows), size):
            if self.connector.config.get("page_delay"):
                time.sleep(float(self.connector.config["page_delay"]))
            part = rows[at : at + size]
            yield Page([self.record(r) for r in part], {"offset": at + len(part)}, len(rows))

    def record(self, row: dict[str, Any]) -> Any:
        raise NotImplementedError


class FakeProducts(_Paged):
    name = "products"
    key = "products"

    def record(self, row: dict[str, Any]) -> ProductRecord:
        rules = self.connector.rules()
        same = "on_sale" if row.get("listed", True) else "off_shelf"
        status = same if rules["product_status"] == "same" else rules["product_status"]
        groups = list(row.get("groups") or [])
        if rules["group"] and rules["group"] not in groups:
            groups.append(rules["group"])
        freight = rules["freight"] or {"mode": "shop", "template_id": row.get("template")}
        return ProductRecord(
            source="fakemig",
            external_id=str(row["id"]),
            name=row["title"],
            price=Decimal(row["price"]),
            status=status,
            properties={"groups": groups, "freight": freight},
            keep_existing=bool(rules["skip_migrated"]),
        )


class FakeOrders(_Paged):
    name = "orders"
    key = "orders"

    def record(self, row: dict[str, Any]) -> OrderRecord:
        at = datetime.fromisoformat(row.get("at") or "2026-11-01T08:00:00+00:00")
        lines = [
            LineRecord(external_id=f"{row['id']}-{n}", product_external_id=str(pid), qty=int(qty),
                       unit_price=Decimal("10.00"), total=Decimal("10.00") * int(qty))
            for n, (pid, qty) in enumerate(row["lines"], 1)
        ]  # fmt: skip
        total = sum((line.total or Decimal(0) for line in lines), Decimal(0))
        paid = Decimal(0) if row["status"] in ("pending", "closed") else total
        return OrderRecord(
            source="fakemig",
            external_id=str(row["id"]),
            order_no=str(row["id"]),
            status=row["status"],
            platform_status=str(row.get("code", row["status"])),
            ordered_at=at,
            updated_at=datetime.fromisoformat(row.get("updated") or at.isoformat()),
            buyer=CustomerRecord(identities=[("fakemig_buyer", f"b-{row['id']}")]),
            lines=lines,
            amount_total=total,
            amount_paid=paid,
            sales_channel="Fake Mini Shop",
            store_id=str(self.connector.config["store_id"]),
        )


def write_shop(path: Path, shop: dict[str, Any]) -> None:
    path.write_text(json.dumps(shop))


def make_shop(products: int, orders: int) -> dict[str, Any]:
    """``products`` products (every third delisted) and ``orders`` paid orders of 1-2 lines."""
    return {
        "products": [
            {
                "id": f"p{i:03d}",
                "title": f"Product {i}",
                "price": f"{10 + i}.50",
                "listed": i % 3 != 0,
                "groups": ["Tea"] if i % 2 else [],
                "template": "t1",
            }
            for i in range(products)
        ],  # fmt: skip
        "orders": [
            {"id": f"o{i:04d}", "status": "paid", "lines": [[f"p{i % products:03d}", 1 + i % 2]]}
            for i in range(orders)
        ],  # fmt: skip
        "templates": [
            {"template_id": "t1", "name": "Standard"},
            {"template_id": "t2", "name": "Remote areas"},
        ],  # fmt: skip
    }


def add_store(workspace_id: int, data_file: Path, *, store: str = "M1", **settings: Any) -> Any:
    """A bound fake mini shop, stored as the bind service stores one."""
    from hub import crypto
    from hub.extensions import db
    from hub.models import Connection

    conn = Connection(
        workspace_id=workspace_id,
        platform="fakemig",
        external_id=store,
        bound_key=store,
        name=f"Fake mini shop {store}",
        settings={"store_id": store, "data_file": str(data_file), **settings},
        credentials_enc=crypto.encrypt_json({"api_key": "k"}),
        sync_mode="manual",
    )
    db.session.add(conn)
    db.session.commit()
    return conn
