"""The Shopify sandbox shop's state: customers, products, orders, abandoned checkouts, events,
the clock and a seeded generator.

Times are epoch seconds (ints), money Decimal in the shop's currency, ids ints above 2^53 (as
Shopify's are: a client reading them as floats loses digits). Rendering into the REST Admin
API's JSON lives in ``sandbox_render``; the HTTP surface in ``sandbox_server`` and
``sandbox_control``.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

SHOP_DOMAIN = "tributary-sandbox.myshopify.com"
SHOP_NAME = "Tributary Sandbox Outfitters"
SHOP_ID = 9_007_199_254_740_993  # 2^53 + 1: not representable as a float
ACCESS_TOKEN = "shpat_sandbox_all_orders_0001"  # noqa: S105  (the simulator's own tokens)
ACCESS_TOKEN_60D = "shpat_sandbox_sixty_days_0002"  # noqa: S105  (no read_all_orders)
CLIENT_SECRET = "shpss_sandbox_client_secret_0001"  # noqa: S105
SCOPES = (
    "read_customers",
    "read_orders",
    "read_all_orders",
    "read_products",
    "read_checkouts",
)
CURRENCY = "USD"
DAY = 86400
CENT = Decimal("0.01")
WINDOW_DAYS = 60  # orders older than this need read_all_orders

_FIRST = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Chloé", "Jürgen", "Mei", "Hiro", "Zoë"]
_LAST = ["Smith", "Garcia", "Müller", "Dubois", "Chen", "Tanaka", "Brown", "Rossi", "Nguyen"]
_PLACES = [
    ("United States", "US", "New York", "NY", "10001"),
    ("United States", "US", "Austin", "TX", "73301"),
    ("Canada", "CA", "Toronto", "ON", "M5H 2N2"),
    ("France", "FR", "Lyon", "", "69001"),
    ("Germany", "DE", "München", "BY", "80331"),
    ("China", "CN", "杭州", "ZJ", "310000"),
]
# (title, body_html, product_type, vendor, price): titles in the shop's own languages (H10)
_PRODUCTS = [
    ("Trail Runner 2", "<p>Light shoe for rough trails.</p>", "Shoes", "Tributary", "89.00"),
    ("Merino Beanie", "<p>Warm <strong>merino</strong> wool.</p>", "Hats", "Tributary", "24.50"),
    ("Veste imperméable", "<p>Veste légère et imperméable.</p>", "Jackets", "Alpin", "149.90"),
    ("Wanderstöcke (Paar)", "<p>Aluminium, verstellbar.</p>", "Gear", "Bergwerk", "59.95"),
    ("登山背包 30L", "<p>轻便耐用的登山背包。</p>", "Bags", "山行", "72.00"),
    ("Camp Mug", "<p>Enamel mug, 350 ml.</p>", "Gear", "Tributary", "12.00"),
    ("Rain Poncho", "<p>Packs into its own pocket.</p>", "Jackets", "Tributary", "19.99"),
    ("Headlamp 300", "<p>300 lumens, USB-C.</p>", "Gear", "Lumen", "34.00"),
    ("Wool Socks x3", "<p>Three pairs.</p>", "Socks", "Tributary", "27.00"),
    ("Water Filter", "<p>Filters 1,000 litres.</p>", "Gear", "Clearflow", "45.00"),
]
# How orders end up, with weights (the generator's mix)
_OUTCOMES = [
    ("pending", 8),
    ("authorized", 4),
    ("partially_paid", 2),
    ("paid", 25),
    ("paid_partial", 8),
    ("fulfilled", 27),
    ("closed", 8),
    ("partially_refunded", 5),
    ("refunded", 4),
    ("voided", 3),
    ("cancelled", 6),
]
_SOURCES = [("web", 6), ("pos", 1), ("shopify_draft_order", 1), ("iphone", 1)]
_OUTCOME_NAMES = [o for o, _ in _OUTCOMES]
_OUTCOME_CUM = list(itertools.accumulate(w for _, w in _OUTCOMES))
_SOURCE_NAMES = [o for o, _ in _SOURCES]
_SOURCE_CUM = list(itertools.accumulate(w for _, w in _SOURCES))
_REFERRERS = ["https://www.google.com/", "https://www.instagram.com/", "", "https://t.co/abc"]


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


class Shop:
    """One shop. Every mutation takes ``lock``, bumps ``updated`` and records a change (the
    webhook topic and payload kind) for the push sender."""

    def __init__(self, seed: int, now: int | None = None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.epoch = int(now if now is not None else time.time())
        self._offset = self.epoch - time.time()
        self._last_now = 0
        self._next = SHOP_ID + 1000
        self.customers: dict[int, dict[str, Any]] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.checkouts: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.deleted: dict[str, list[int]] = {"Order": [], "Product": [], "Customer": []}
        self.changes: list[tuple[str, str, int, float]] = []  # (topic, kind, id, triggered_at)
        self._last_change = 0.0
        self._generating = False
        self.version = 0  # bumped by every change: list caches key on it
        self._events_index: tuple[int, dict[int, dict[str, Any]]] = (-1, {})
        self.order_number = 1000

    # ------------------------------------------------------------------ basics
    def now(self) -> int:
        """The shop's clock: real time shifted to the epoch it was generated at; never
        repeats a second backwards."""
        t = max(int(time.time() + self._offset), self._last_now)
        self._last_now = t
        return t

    def new_id(self) -> int:
        """Increasing ids above 2^53, most of them odd (a float cannot hold them)."""
        self._next += self.rng.randint(1, 499) * 2 + 1
        return self._next

    def events_by_id(self) -> dict[int, dict[str, Any]]:
        """Events by id (rebuilt when the shop has changed since the last call)."""
        if self._events_index[0] != self.version:
            self._events_index = (self.version, {e["id"]: e for e in self.events})
        return self._events_index[1]

    def _event(self, subject_type: str, subject_id: int, verb: str, at: int, **extra: Any) -> None:
        self.version += 1
        self.events.append(
            {
                "id": self.new_id(),
                "subject_id": subject_id,
                "subject_type": subject_type,
                "verb": verb,
                "created_at": at,
                **extra,
            }
        )

    def _change(self, topic: str, kind: str, rid: int, at: int) -> None:
        """Record a webhook to send; its triggered-at (float seconds) never goes backwards."""
        self.version += 1
        if self._generating:
            return
        triggered = max(float(at), time.time() + self._offset, self._last_change + 1e-6)
        self._last_change = triggered
        self.changes.append((topic, kind, rid, triggered))

    # ------------------------------------------------------------------ generator
    def generate(self, orders: int) -> None:
        """``orders`` orders over the 400 days before the epoch, with their customers,
        products, abandoned checkouts and a few deletions (seen in events.json)."""
        rng, end = self.rng, self.epoch
        start = end - 400 * DAY
        self._generating = True
        for i, spec in enumerate(_PRODUCTS):
            self.add_product(spec, at=start + i * 3600)
        n_customers = max(10, orders // 3)
        for _ in range(n_customers):
            self.add_customer(at=start + rng.randint(0, 30 * DAY))
        times = sorted(rng.randint(start + 31 * DAY, end - 3600) for _ in range(orders))
        customers = list(self.customers)
        for at in times:
            cid = rng.choice(customers) if rng.random() > 0.05 else None  # a few guests
            outcome = rng.choices(_OUTCOME_NAMES, cum_weights=_OUTCOME_CUM)[0]
            order = self.add_order(cid, at=at)
            self._play(order, outcome, at, end)
        for _ in range(max(3, orders // 5)):
            cid = rng.choice(customers) if rng.random() > 0.3 else None
            self.add_checkout(cid, at=rng.randint(end - 90 * DAY, end - 3600))
        # deletions: one order in fifty, a product and a customer without orders
        for oid in [o for o in self.orders if rng.random() < 0.02]:
            self.delete("Order", oid, at=min(end - 60, self.orders[oid]["updated"] + DAY))
        self.delete("Product", list(self.products)[-1], at=end - 5 * DAY)
        unused = [c for c in self.customers if self.customers[c]["orders_count"] == 0]
        if unused:
            self.delete("Customer", unused[0], at=end - 4 * DAY)
        self.changes.clear()
        self._generating = False

    def _play(self, order: dict[str, Any], outcome: str, at: int, end: int) -> None:
        """Move a fresh order to ``outcome`` through Shopify's own transitions."""
        rng = self.rng
        step = lambda: min(end - 1, at + rng.randint(600, 20 * DAY))  # noqa: E731
        if outcome in ("pending", "authorized", "partially_paid"):
            order["financial_status"] = outcome
            if outcome == "partially_paid":
                order["paid"] = money(order_total(order) / 2)
            return
        if outcome == "voided":
            order["financial_status"] = "authorized"
            self.cancel(order["id"], "declined", at=step())
            return
        self.pay(order["id"], at=at + 60)
        if rng.random() < 0.1 and len(order["lines"]) > 1:
            self.edit_remove_line(order["id"], at=at + 120)
        if outcome == "paid_partial":
            self.fulfill(order["id"], partial=True, at=step())
        elif outcome in ("fulfilled", "closed", "partially_refunded"):
            self.fulfill(order["id"], partial=False, at=step())
        if outcome == "closed":
            self.close(order["id"], at=step())
        elif outcome == "partially_refunded":
            self.refund(order["id"], full=False, at=step())
        elif outcome == "refunded":
            self.refund(order["id"], full=True, at=step())
        elif outcome == "cancelled":
            self.cancel(
                order["id"], rng.choice(["customer", "fraud", "inventory", "other"]), step()
            )

    # ------------------------------------------------------------------ resources
    def add_product(self, spec: tuple[str, str, str, str, str], at: int) -> dict[str, Any]:
        title, body, ptype, vendor, price = spec
        pid = self.new_id()
        handle = "-".join(title.lower().split()) if title.isascii() else f"product-{pid % 100000}"
        product = {
            "id": pid,
            "title": title,
            "body_html": body,
            "handle": handle,
            "product_type": ptype,
            "vendor": vendor,
            "tags": ", ".join(sorted({ptype.lower(), "outdoor"})),
            "price": Decimal(price),
            "variant_id": self.new_id(),
            "image_id": self.new_id(),
            "sku": f"SKU-{pid % 1000000:06d}",
            "created": at,
            "updated": at,
            "published": at + 60,
        }
        self.products[pid] = product
        self._event("Product", pid, "create", at)
        self._change("products/create", "product", pid, at)
        return product

    def add_customer(self, at: int) -> dict[str, Any]:
        rng = self.rng
        cid = self.new_id()
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        n = len(self.customers) + 1
        email = None if n % 12 == 0 else f"{first.lower()}.{last.lower()}.{n}@example.com"
        email = email.encode("ascii", "ignore").decode() if email else None
        phone = f"+1555{rng.randint(1000000, 9999999)}" if rng.random() < 0.6 else None
        country, code, city, province, zipcode = rng.choice(_PLACES)
        # one in seven: the default address carries another phone than the customer record
        addr_phone = f"+1666{rng.randint(1000000, 9999999)}" if n % 7 == 0 else phone
        consent = rng.choice(["subscribed", "not_subscribed", "unsubscribed"])
        customer = {
            "id": cid,
            "email": email,
            "phone": phone,
            "first_name": first,
            "last_name": last,
            "verified_email": bool(email) and rng.random() < 0.8,
            "tags": rng.choice(["", "vip", "wholesale, vip", "newsletter"]),
            "note": rng.choice([None, "Prefers e-mail", "Ask for size"]),
            "tax_exempt": rng.random() < 0.05,
            "consent": consent,
            "address": {
                "id": self.new_id(),
                "first_name": first,
                "last_name": last,
                "address1": f"{rng.randint(1, 300)} Main Street",
                "city": city,
                "province": province,
                "country": country,
                "country_code": code,
                "zip": zipcode,
                "phone": addr_phone,
            },
            "orders_count": 0,
            "total_spent": Decimal("0.00"),
            "last_order_id": None,
            "last_order_name": None,
            "created": at,
            "updated": at,
        }
        self.customers[cid] = customer
        self._event("Customer", cid, "create", at)
        self._change("customers/create", "customer", cid, at)
        return customer

    def _lines(self, count: int) -> list[dict[str, Any]]:
        products = [p for p in self.products.values() if not p.get("gone")]
        picks = self.rng.sample(products, k=min(count, len(products)))
        lines = []
        for p in picks:
            qty = self.rng.randint(1, 3)
            lines.append(
                {
                    "id": self.new_id(),
                    "product_id": p["id"],
                    "variant_id": p["variant_id"],
                    "sku": p["sku"],
                    "title": p["title"],
                    "price": p["price"],
                    "quantity": qty,
                    "current_quantity": qty,
                    "fulfilled": 0,
                    "grams": 250,
                    "vendor": p["vendor"],
                }
            )
        return lines

    def add_order(self, customer_id: int | None, at: int) -> dict[str, Any]:
        rng = self.rng
        oid = self.new_id()
        self.order_number += 1
        cust = self.customers.get(customer_id) if customer_id else None
        presentment = rng.choice(["USD", "USD", "USD", "EUR", "CAD"])
        lines = self._lines(rng.choices([1, 2, 3], [5, 3, 2])[0])
        subtotal = sum((ln["price"] * ln["quantity"] for ln in lines), Decimal(0))
        order = {
            "id": oid,
            "number": self.order_number - 1000,
            "order_number": self.order_number,
            "customer_id": customer_id if cust else None,
            "email": (cust or {}).get("email") or "",
            "phone": (cust or {}).get("phone"),
            "lines": lines,
            "discount": money(subtotal * Decimal("0.1")) if rng.random() < 0.2 else Decimal("0.00"),
            "tax_rate": Decimal("0.08"),
            "shipping": Decimal("5.00") if rng.random() < 0.7 else Decimal("0.00"),
            "presentment": presentment,
            "rate": {"USD": Decimal(1), "EUR": Decimal("0.92"), "CAD": Decimal("1.37")}[
                presentment
            ],
            "financial_status": "pending",
            "fulfillment_status": None,
            "cancelled_at": None,
            "cancel_reason": None,
            "closed_at": None,
            "paid": Decimal("0.00"),
            "refunds": [],
            "fulfillments": [],
            "edited": False,
            "source_name": rng.choices(_SOURCE_NAMES, cum_weights=_SOURCE_CUM)[0],
            "landing_site": rng.choice(["/", "/collections/all", "/products/camp-mug?utm=ig"]),
            "referring_site": rng.choice(_REFERRERS),
            "note": rng.choice([None, None, "Gift wrap please", "Leave at the door"]),
            "tags": rng.choice(["", "gift", "wholesale"]),
            "token": uuid.UUID(int=rng.getrandbits(128)).hex,
            "cart_token": uuid.UUID(int=rng.getrandbits(128)).hex[:24],
            "checkout_id": self.new_id(),
            "buyer_accepts_marketing": bool(cust) and cust["consent"] == "subscribed",  # type: ignore[index]
            "created": at,
            "processed": at,
            "updated": at,
        }
        self.orders[oid] = order
        if cust:
            cust["orders_count"] += 1
            cust["last_order_id"] = oid
            cust["last_order_name"] = f"#{self.order_number}"
            cust["updated"] = max(cust["updated"], at)
        self._event("Order", oid, "create", at)
        self._change("orders/create", "order", oid, at)
        return order

    def add_checkout(self, customer_id: int | None, at: int) -> dict[str, Any]:
        rng = self.rng
        cid = self.new_id()
        cust = self.customers.get(customer_id) if customer_id else None
        email = (cust or {}).get("email")
        if cust is None and rng.random() < 0.5:
            email = f"guest{cid % 100000}@example.net"
        checkout = {
            "id": cid,
            "token": uuid.UUID(int=rng.getrandbits(128)).hex,
            "cart_token": uuid.UUID(int=rng.getrandbits(128)).hex[:24],
            "customer_id": customer_id if cust else None,
            "email": email,
            "phone": (cust or {}).get("phone"),
            "lines": self._lines(rng.randint(1, 3)),
            "discount": Decimal("0.00"),
            "tax_rate": Decimal("0.08"),
            "shipping": Decimal("0.00"),
            "presentment": CURRENCY,
            "rate": Decimal(1),
            "landing_site": "/",
            "referring_site": rng.choice(_REFERRERS),
            "source_name": "web",
            "buyer_accepts_marketing": rng.random() < 0.3,
            "completed_at": None,
            "closed_at": None,
            "created": at,
            "updated": at,
        }
        self.checkouts[cid] = checkout
        self._change("checkouts/create", "checkout", cid, at)
        return checkout

    # ------------------------------------------------------------------ transitions
    def _touch(self, order: dict[str, Any], at: int, topic: str) -> None:
        order["updated"] = max(order["updated"] + 1, at)
        self._change(topic, "order", order["id"], order["updated"])

    def pay(self, oid: int, at: int) -> bool:
        order = self.orders[oid]
        if order["financial_status"] not in ("pending", "authorized", "partially_paid"):
            return False
        if order["cancelled_at"]:
            return False
        order["financial_status"] = "paid"
        order["paid"] = order_total(order)
        cust = self.customers.get(order["customer_id"] or 0)
        if cust:
            cust["total_spent"] += order["paid"]
        self._event("Order", oid, "paid", at)
        self._touch(order, at, "orders/paid")
        return True

    def fulfill(self, oid: int, partial: bool, at: int) -> bool:
        order = self.orders[oid]
        todo = [ln for ln in order["lines"] if ln["current_quantity"] > ln["fulfilled"]]
        if not todo or order["cancelled_at"] or order["financial_status"] != "paid":
            return False
        if partial and len(todo) > 1:
            todo = todo[:1]
        elif partial:
            partial = False
        for ln in todo:
            ln["fulfilled"] = ln["current_quantity"]
        left = any(ln["current_quantity"] > ln["fulfilled"] for ln in order["lines"])
        order["fulfillment_status"] = "partial" if left else "fulfilled"
        order["fulfillments"].append(
            {
                "id": self.new_id(),
                "created": at,
                "lines": [(ln["id"], ln["current_quantity"]) for ln in todo],
                "tracking_number": f"1Z{self.rng.randint(10**9, 10**10 - 1)}",
            }
        )
        self._event("Order", oid, "fulfillment_success", at)
        topic = "orders/partially_fulfilled" if left else "orders/fulfilled"
        self._touch(order, at, topic)
        return True

    def close(self, oid: int, at: int) -> bool:
        order = self.orders[oid]
        if order["closed_at"]:
            return False
        order["closed_at"] = at
        self._event("Order", oid, "closed", at)
        self._touch(order, at, "orders/updated")
        return True

    def refund(self, oid: int, full: bool, at: int) -> bool:
        order = self.orders[oid]
        if order["financial_status"] not in ("paid", "partially_refunded"):
            return False
        lines = [ln for ln in order["lines"] if ln["current_quantity"] > 0]
        if not lines:
            return False
        chosen = lines if full or len(lines) == 1 else lines[:1]
        items = []
        for ln in chosen:
            qty = ln["current_quantity"] if full else max(1, ln["current_quantity"] // 2)
            if not full and len(lines) == 1 and ln["current_quantity"] == 1:
                qty = 1
                full = True
            items.append((ln["id"], qty, money(ln["price"] * qty)))
            ln["current_quantity"] -= qty
        amount = sum((a for _, _, a in items), Decimal(0))
        amount = money(amount * (1 + order["tax_rate"]))
        if full or all(ln["current_quantity"] == 0 for ln in order["lines"]):
            amount = order["paid"] - sum((r["amount"] for r in order["refunds"]), Decimal(0))
            order["financial_status"] = "refunded"
        else:
            order["financial_status"] = "partially_refunded"
        order["refunds"].append(
            {"id": self.new_id(), "created": at, "lines": items, "amount": amount, "note": None}
        )
        cust = self.customers.get(order["customer_id"] or 0)
        if cust:
            cust["total_spent"] -= amount
        self._event("Order", oid, "refund", at)
        self._change("refunds/create", "refund", oid, at)
        self._touch(order, at, "orders/updated")
        return True

    def cancel(self, oid: int, reason: str, at: int) -> bool:
        order = self.orders[oid]
        if order["cancelled_at"] or order["fulfillment_status"] == "fulfilled":
            return False
        if order["financial_status"] in ("paid", "partially_paid"):
            order["refunds"].append(
                {"id": self.new_id(), "created": at, "lines": [], "amount": order["paid"]}
            )
            order["financial_status"] = "refunded"
        elif order["financial_status"] in ("pending", "authorized"):
            order["financial_status"] = "voided"
        order["cancelled_at"] = at
        order["closed_at"] = at
        order["cancel_reason"] = reason
        self._event("Order", oid, "cancelled", at)
        self._touch(order, at, "orders/cancelled")
        return True

    def edit_remove_line(self, oid: int, at: int) -> bool:
        """An order edit removing the last line still unfulfilled (current_quantity 0)."""
        order = self.orders[oid]
        live = [ln for ln in order["lines"] if ln["current_quantity"] > 0 and not ln["fulfilled"]]
        if (
            len(live) < 1
            or order["cancelled_at"]
            or sum(1 for ln in order["lines"] if ln["current_quantity"] > 0) < 2
        ):
            return False
        removed = live[-1]
        delta, removed["current_quantity"] = removed["current_quantity"], 0
        order["edited"] = True
        order.setdefault("edits", []).append(
            {"id": self.new_id(), "created": at, "removals": [(removed["id"], delta)]}
        )
        self._event("Order", oid, "edited", at)
        self._change("orders/edited", "order_edit", oid, at)
        self._touch(order, at, "orders/updated")
        return True

    def delete(self, subject_type: str, rid: int, at: int) -> bool:
        """Delete a record; as on Shopify, a customer who has orders cannot be deleted."""
        table = {"Order": self.orders, "Product": self.products, "Customer": self.customers}
        record = table[subject_type].get(rid)
        if record is None or (subject_type == "Customer" and record["orders_count"] > 0):
            return False
        del table[subject_type][rid]
        self.deleted[subject_type].append(rid)
        self._event(subject_type, rid, "destroy", at)
        kind = subject_type.lower()
        self._change(f"{kind}s/delete", kind, rid, at)
        return True

    def abandon_recovered(self, checkout_id: int, at: int) -> dict[str, Any] | None:
        """The buyer comes back and completes the checkout: it leaves the abandoned list and
        becomes an order with the checkout's lines, whose ``checkout_token`` is the checkout's
        token (as on Shopify). The order, or None when there is no such open checkout."""
        checkout = self.checkouts.get(checkout_id)
        if checkout is None or checkout["completed_at"]:
            return None
        checkout["completed_at"] = at
        checkout["updated"] = at
        self._change("checkouts/update", "checkout", checkout_id, at)
        order = self.add_order(checkout["customer_id"], at)
        order.update(
            lines=[dict(line) for line in checkout["lines"]],
            email=checkout["email"] or "",
            checkout_id=checkout_id,
            checkout_token=checkout["token"],
            cart_token=checkout["cart_token"],
            discount=Decimal("0.00"),
        )
        return order


def order_total(order: dict[str, Any]) -> Decimal:
    """What the buyer was charged when the order was placed (before edits and refunds)."""
    lines = sum((ln["price"] * ln["quantity"] for ln in order["lines"]), Decimal(0))
    sub = lines - order["discount"]
    return money(sub + sub * order["tax_rate"] + order["shipping"])


def expected_stage(order: dict[str, Any]) -> str:
    """Issue 23's stage rules, first match wins (the sandbox's ground truth)."""
    fin, ful = order["financial_status"], order["fulfillment_status"]
    if order["cancelled_at"] or fin in ("refunded", "voided"):
        return "cancelled"
    if ful == "fulfilled":
        return "shipped"
    if fin in ("paid", "partially_refunded"):
        return "processed"
    return "checkout_completed"
