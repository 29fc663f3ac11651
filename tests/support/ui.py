"""Helpers for the admin UI tests: users, sign-in, and a workspace with real synced-like data
written through the core's one writer (``ingest.apply``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from hub.core import ingest
from hub.extensions import db
from hub.models import Customer, Order, Workspace
from hub.services import users
from tests.support.fake_platform import add_connection
from tests.support.orders import T0, order

PASSWORD = "correct horse battery"


def make_user(ws: Workspace, email: str, role: str = "admin") -> Any:
    return users.create_user(email, PASSWORD, ws, role=role)


class Browser(FlaskClient):
    """A test client whose every request has an app context of its own, as in production: the
    app fixture keeps one context pushed, and its ``g`` would carry the user Flask-Login loaded
    for one client into the next client's request."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def browser(app: Flask) -> Browser:
    return Browser(app, app.response_class, use_cookies=True)


def login(client: Any, email: str, password: str = PASSWORD, **kw: Any) -> Any:
    return client.post("/login", data={"email": email, "password": password, **kw})


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


@dataclass
class Seeded:
    """Ids of one workspace's objects, for opening them by URL."""

    connection_id: int
    customer_id: int
    order_id: int
    mobile: str


def seed(ws: Workspace, tmp: Path, *, tag: str = "A") -> Seeded:
    """A bound fake store, two orders (one refunded) of one buyer, via ingest.apply."""
    data = tmp / f"orders-{tag}.json"
    data.write_text("[]")
    conn = add_connection(ws.id, data, store=f"store-{tag}")
    mobile = "13900001111" if tag == "A" else "13900002222"
    ids = [("yz_open_id", f"yz-{tag}"), ("mobile", mobile)]
    records = [
        order(f"{tag}-1", identities=ids, paid="120.00", name=f"Buyer {tag}"),
        order(
            f"{tag}-2",
            identities=ids,
            paid="80.00",
            refunds=[(f"R-{tag}", "30.00")],
            name=f"Buyer {tag}",
            at=T0 + timedelta(days=1),
        ),  # fmt: skip
    ]
    ingest.apply(db.session, ws.id, records, connection_id=conn.id)
    cust = db.session.scalars(db.select(Customer).where(Customer.workspace_id == ws.id)).first()
    first = db.session.scalars(db.select(Order).where(Order.workspace_id == ws.id)).first()
    assert cust is not None and first is not None
    return Seeded(conn.id, cust.id, first.id, mobile)
