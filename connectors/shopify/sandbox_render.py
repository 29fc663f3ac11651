"""The sandbox shop's records in the REST Admin API's JSON shapes (snake_case; money as
strings with ``*_set`` bags; ISO-8601 times with the shop's offset; ids as JSON numbers)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

from connectors.shopify.sandbox_data import CENT, CURRENCY, SHOP_DOMAIN, money

SHOP_TZ = timezone(timedelta(hours=-5))


def iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return _iso(ts)


@lru_cache(maxsize=1 << 16)
def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, SHOP_TZ).isoformat()


@lru_cache(maxsize=1 << 16)
def s(value: Decimal) -> str:
    return str(money(value))


def money_set(value: Decimal, presentment: str, rate: Decimal) -> dict[str, Any]:
    """The ``*_set`` bag. Cached: renderings share these small dicts (they are only read and
    serialised), so rendering a large shop does not rebuild the same bags again and again."""
    return _money_set(value, presentment, rate)


@lru_cache(maxsize=1 << 16)
def _money_set(value: Decimal, presentment: str, rate: Decimal) -> dict[str, Any]:
    return {
        "shop_money": {"amount": s(value), "currency_code": CURRENCY},
        "presentment_money": {
            "amount": str((value * rate).quantize(CENT)),
            "currency_code": presentment,
        },
    }


def _priced(rec: dict[str, Any], **amounts: Decimal) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in amounts.items():
        out[name] = s(value)
        out[f"{name}_set"] = money_set(value, rec["presentment"], rec["rate"])
    return out


def address(a: dict[str, Any] | None, customer_id: int | None = None) -> dict[str, Any] | None:
    if a is None:
        return None
    out = {
        "first_name": a["first_name"],
        "last_name": a["last_name"],
        "address1": a["address1"],
        "address2": None,
        "city": a["city"],
        "province": a["province"] or None,
        "country": a["country"],
        "zip": a["zip"],
        "phone": a["phone"],
        "name": f"{a['first_name']} {a['last_name']}",
        "province_code": a["province"] or None,
        "country_code": a["country_code"],
        "country_name": a["country"],
        "company": None,
    }
    if customer_id is not None:
        out.update({"id": a["id"], "customer_id": customer_id, "default": True})
    return out


def customer(c: dict[str, Any]) -> dict[str, Any]:
    consent_at = iso(c["created"]) if c["consent"] != "not_subscribed" else None
    return {
        "id": c["id"],
        "email": c["email"],
        "created_at": iso(c["created"]),
        "updated_at": iso(c["updated"]),
        "first_name": c["first_name"],
        "last_name": c["last_name"],
        "orders_count": c["orders_count"],
        "state": "enabled" if c["email"] else "disabled",
        "total_spent": s(c["total_spent"]),
        "last_order_id": c["last_order_id"],
        "note": c["note"],
        "verified_email": c["verified_email"],
        "multipass_identifier": None,
        "tax_exempt": c["tax_exempt"],
        "tags": c["tags"],
        "last_order_name": c["last_order_name"],
        "currency": CURRENCY,
        "phone": c["phone"],
        "addresses": [address(c["address"], c["id"])],
        "tax_exemptions": [],
        "email_marketing_consent": (
            {
                "state": c["consent"],
                "opt_in_level": "single_opt_in",
                "consent_updated_at": consent_at,
            }
            if c["email"]
            else None
        ),
        "sms_marketing_consent": None,
        "admin_graphql_api_id": f"gid://shopify/Customer/{c['id']}",
        "default_address": address(c["address"], c["id"]),
    }


def _customer_brief(c: dict[str, Any] | None) -> dict[str, Any] | None:
    if c is None:
        return None
    full = customer(c)
    for key in ("addresses", "orders_count", "total_spent", "last_order_id", "last_order_name"):
        full.pop(key, None)
    return full


def product(p: dict[str, Any]) -> dict[str, Any]:
    variant = {
        "id": p["variant_id"],
        "product_id": p["id"],
        "title": "Default Title",
        "price": s(p["price"]),
        "sku": p["sku"],
        "position": 1,
        "compare_at_price": None,
        "option1": "Default Title",
        "option2": None,
        "option3": None,
        "grams": 250,
        "weight": 0.25,
        "weight_unit": "kg",
        "inventory_item_id": p["variant_id"] + 2,
        "inventory_quantity": 10,
        "inventory_management": "shopify",
        "inventory_policy": "deny",
        "requires_shipping": True,
        "taxable": True,
        "barcode": None,
        "created_at": iso(p["created"]),
        "updated_at": iso(p["updated"]),
        "admin_graphql_api_id": f"gid://shopify/ProductVariant/{p['variant_id']}",
    }
    image = {
        "id": p["image_id"],
        "product_id": p["id"],
        "position": 1,
        "alt": p["title"],
        "width": 800,
        "height": 800,
        "src": f"https://cdn.shopify.com/s/files/1/sandbox/{p['handle']}.jpg",
        "variant_ids": [],
        "created_at": iso(p["created"]),
        "updated_at": iso(p["updated"]),
    }
    return {
        "id": p["id"],
        "title": p["title"],
        "body_html": p["body_html"],
        "vendor": p["vendor"],
        "product_type": p["product_type"],
        "created_at": iso(p["created"]),
        "handle": p["handle"],
        "updated_at": iso(p["updated"]),
        "published_at": iso(p["published"]),
        "template_suffix": None,
        "published_scope": "web",
        "tags": p["tags"],
        "status": "active",
        "admin_graphql_api_id": f"gid://shopify/Product/{p['id']}",
        "variants": [variant],
        "options": [{"id": p["id"] + 4, "product_id": p["id"], "name": "Title", "position": 1}],
        "images": [image],
        "image": image,
    }


def _line(rec: dict[str, Any], ln: dict[str, Any], with_current: bool) -> dict[str, Any]:
    out = {
        "id": ln["id"],
        "admin_graphql_api_id": f"gid://shopify/LineItem/{ln['id']}",
        "product_id": ln["product_id"],
        "variant_id": ln["variant_id"],
        "sku": ln["sku"],
        "title": ln["title"],
        "variant_title": None,
        "name": ln["title"],
        "vendor": ln["vendor"],
        "quantity": ln["quantity"],
        "grams": ln["grams"],
        "requires_shipping": True,
        "taxable": True,
        "gift_card": False,
        "product_exists": True,
        "properties": [],
        "tax_lines": [],
        "discount_allocations": [],
        **_priced(rec, price=ln["price"], total_discount=Decimal(0)),
    }
    if with_current:
        out["current_quantity"] = ln["current_quantity"]
        out["fulfillable_quantity"] = max(0, ln["current_quantity"] - ln["fulfilled"])
        out["fulfillment_status"] = (
            "fulfilled" if ln["fulfilled"] and ln["fulfilled"] >= ln["current_quantity"] else None
        )
    return out


def _amounts(rec: dict[str, Any], current: bool) -> dict[str, Decimal]:
    qty = "current_quantity" if current else "quantity"
    line_total = sum((ln["price"] * ln[qty] for ln in rec["lines"]), Decimal(0))
    full = sum((ln["price"] * ln["quantity"] for ln in rec["lines"]), Decimal(0))
    discount = money(rec["discount"] * line_total / full) if full else Decimal(0)
    sub = line_total - discount
    tax = money(sub * rec["tax_rate"])
    total = sub + tax + (rec["shipping"] if line_total or not current else Decimal(0))
    return {"lines": line_total, "discount": discount, "sub": sub, "tax": tax, "total": total}


def order(o: dict[str, Any], customer_rec: dict[str, Any] | None) -> dict[str, Any]:
    a, cur = _amounts(o, False), _amounts(o, True)
    refunded = sum((r["amount"] for r in o["refunds"]), Decimal(0))
    outstanding = max(Decimal(0), a["total"] - o["paid"]) if not o["cancelled_at"] else Decimal(0)
    addr = address(customer_rec["address"]) if customer_rec else None
    name = f"#{o['order_number']}"
    return {
        "id": o["id"],
        "admin_graphql_api_id": f"gid://shopify/Order/{o['id']}",
        "app_id": 580111,
        "browser_ip": "203.0.113.7",
        "buyer_accepts_marketing": o["buyer_accepts_marketing"],
        "cancel_reason": o["cancel_reason"],
        "cancelled_at": iso(o["cancelled_at"]),
        "cart_token": o["cart_token"],
        "checkout_id": o["checkout_id"],
        "checkout_token": o.get("checkout_token") or o["token"][::-1],
        "closed_at": iso(o["closed_at"]),
        "confirmed": True,
        "contact_email": o["email"] or None,
        "created_at": iso(o["created"]),
        "currency": CURRENCY,
        "customer_locale": "en",
        "email": o["email"],
        "financial_status": o["financial_status"],
        "fulfillment_status": o["fulfillment_status"],
        "landing_site": o["landing_site"],
        "landing_site_ref": None,
        "name": name,
        "note": o["note"],
        "note_attributes": [],
        "number": o["number"],
        "order_number": o["order_number"],
        "order_status_url": f"https://{SHOP_DOMAIN}/orders/{o['token']}/authenticate",
        "payment_gateway_names": ["shopify_payments"],
        "phone": o["phone"],
        "presentment_currency": o["presentment"],
        "processed_at": iso(o["processed"]),
        "processing_method": "direct",
        "reference": None,
        "referring_site": o["referring_site"] or None,
        "source_identifier": None,
        "source_name": o["source_name"],
        "source_url": None,
        "tags": o["tags"],
        "taxes_included": False,
        "test": False,
        "token": o["token"],
        "total_weight": sum(ln["grams"] * ln["current_quantity"] for ln in o["lines"]),
        "updated_at": iso(o["updated"]),
        "user_id": None,
        **_priced(
            o,
            current_subtotal_price=cur["sub"],
            current_total_discounts=cur["discount"],
            current_total_price=max(Decimal(0), a["total"] - refunded)
            if o["financial_status"] in ("refunded", "partially_refunded")
            else cur["total"],
            current_total_tax=cur["tax"],
            subtotal_price=a["sub"],
            total_discounts=a["discount"],
            total_line_items_price=a["lines"],
            total_outstanding=outstanding,
            total_price=a["total"],
            total_tax=a["tax"],
            total_tip_received=Decimal(0),
        ),
        "billing_address": addr,
        "shipping_address": addr,
        "customer": _customer_brief(customer_rec),
        "discount_codes": (
            [{"code": "WELCOME10", "amount": s(o["discount"]), "type": "percentage"}]
            if o["discount"]
            else []
        ),
        "line_items": [_line(o, ln, True) for ln in o["lines"]],
        "shipping_lines": (
            [
                {
                    "id": o["id"] + 2,
                    "title": "Standard",
                    "code": "Standard",
                    **_priced(o, price=o["shipping"]),
                }
            ]
            if o["shipping"]
            else []
        ),
        "tax_lines": [
            {"title": "Sales tax", "rate": float(o["tax_rate"]), **_priced(o, price=a["tax"])}
        ],
        "fulfillments": [
            {
                "id": f["id"],
                "order_id": o["id"],
                "status": "success",
                "shipment_status": None,
                "tracking_company": "UPS",
                "tracking_number": f["tracking_number"],
                "tracking_numbers": [f["tracking_number"]],
                "tracking_url": f"https://www.ups.com/track?tracknum={f['tracking_number']}",
                "tracking_urls": [f"https://www.ups.com/track?tracknum={f['tracking_number']}"],
                "created_at": iso(f["created"]),
                "updated_at": iso(f["created"]),
                "line_items": [{"id": lid, "quantity": qty} for lid, qty in f["lines"]],
            }
            for f in o["fulfillments"]
        ],
        "refunds": [refund(o, r) for r in o["refunds"]],
    }


def refund(o: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "order_id": o["id"],
        "created_at": iso(r["created"]),
        "processed_at": iso(r["created"]),
        "note": r.get("note"),
        "restock": bool(r["lines"]),
        "user_id": None,
        "admin_graphql_api_id": f"gid://shopify/Refund/{r['id']}",
        "refund_line_items": [
            {
                "id": lid + 6,
                "line_item_id": lid,
                "quantity": qty,
                "restock_type": "return",
                **_priced(o, subtotal=amount, total_tax=money(amount * o["tax_rate"])),
            }
            for lid, qty, amount in r["lines"]
        ],
        "transactions": [
            {
                "id": r["id"] + 2,
                "order_id": o["id"],
                "kind": "refund",
                "gateway": "shopify_payments",
                "status": "success",
                "amount": s(r["amount"]),
                "currency": CURRENCY,
                "created_at": iso(r["created"]),
            }
        ],
        "order_adjustments": [],
        "duties": [],
    }


def checkout(c: dict[str, Any], customer_rec: dict[str, Any] | None) -> dict[str, Any]:
    a = _amounts(c, False)
    return {
        "id": c["id"],
        "token": c["token"],
        "cart_token": c["cart_token"],
        "email": c["email"],
        "phone": c["phone"],
        "gateway": None,
        "buyer_accepts_marketing": c["buyer_accepts_marketing"],
        "created_at": iso(c["created"]),
        "updated_at": iso(c["updated"]),
        "landing_site": c["landing_site"],
        "note": None,
        "note_attributes": [],
        "referring_site": c["referring_site"] or None,
        "shipping_lines": [],
        "taxes_included": False,
        "total_weight": sum(ln["grams"] * ln["quantity"] for ln in c["lines"]),
        "currency": CURRENCY,
        "presentment_currency": c["presentment"],
        "completed_at": iso(c["completed_at"]),
        "closed_at": iso(c["closed_at"]),
        "source_name": c["source_name"],
        "abandoned_checkout_url": (
            f"https://{SHOP_DOMAIN}/checkouts/{c['token']}/recover?key={c['cart_token']}"
        ),
        "subtotal_price": s(a["sub"]),
        "total_price": s(a["total"]),
        "total_tax": s(a["tax"]),
        "total_discounts": s(a["discount"]),
        "total_line_items_price": s(a["lines"]),
        "line_items": [
            {
                "key": str(ln["id"]),
                "product_id": ln["product_id"],
                "variant_id": ln["variant_id"],
                "sku": ln["sku"],
                "title": ln["title"],
                "quantity": ln["quantity"],
                "price": s(ln["price"]),
                "vendor": ln["vendor"],
                "grams": ln["grams"],
            }
            for ln in c["lines"]
        ],
        "customer": _customer_brief(customer_rec),
        "billing_address": address(customer_rec["address"]) if customer_rec else None,
        "shipping_address": address(customer_rec["address"]) if customer_rec else None,
    }


def event(e: dict[str, Any]) -> dict[str, Any]:
    kind = e["subject_type"]
    return {
        "id": e["id"],
        "subject_id": e["subject_id"],
        "created_at": iso(e["created_at"]),
        "subject_type": kind,
        "verb": e["verb"],
        "arguments": [str(e["subject_id"])],
        "body": None,
        "message": f"{kind} {e['subject_id']} {e['verb']}",
        "author": "Shopify",
        "description": f"{kind} {e['verb']}",
        "path": f"/admin/{kind.lower()}s/{e['subject_id']}",
    }


def order_edit(o: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any]:
    """The ``orders/edited`` webhook body: the edit, not the order."""
    return {
        "order_edit": {
            "id": edit["id"],
            "app_id": None,
            "created_at": iso(edit["created"]),
            "committed_at": iso(edit["created"]),
            "notify_customer": False,
            "order_id": o["id"],
            "staff_note": "",
            "user_id": None,
            "line_items": {
                "additions": [],
                "removals": [{"id": lid, "delta": delta} for lid, delta in edit["removals"]],
            },
            "discounts": {"additions": [], "removals": []},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }
