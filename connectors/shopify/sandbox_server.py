"""A faithful local simulator of Shopify's REST Admin API (PLATFORMS.md §3.7).

``create_app(seed, orders, epoch=None)`` serves ``/admin/api/{version}/…json`` (versions older
than 2024-01 refused) with ``X-Shopify-Access-Token`` auth (a real 401), the 40-request leaky
bucket leaking 2/s (429 + ``Retry-After``, ``X-Shopify-Shop-Api-Call-Limit`` on every answer),
``Link``-header cursor paging whose ``page_info`` refuses other filters (400), ``status=open``
by default on orders, the 60-day window for a token without ``read_all_orders``, and the
control API under ``/_sandbox`` (``sandbox_control``). ``demo_bind_config(base_url)`` gives
bind settings that work against it. Run it with ``hub sandbox shopify --port N --seed S``.

Pages are joined from each record's JSON, rendered (orjson) on first use and kept until the
shop changes (any change clears them all), so a 100,000-order shop is paged again in seconds;
bench/sync_shopify.py measures it.
"""

from __future__ import annotations

import base64
import bisect
import gc
import json
import re
import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Flask, Response, current_app, jsonify, request

from connectors.shopify import sandbox_render as render
from connectors.shopify.sandbox_data import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_60D,
    CLIENT_SECRET,
    DAY,
    SCOPES,
    SHOP_DOMAIN,
    SHOP_ID,
    SHOP_NAME,
    WINDOW_DAYS,
    Shop,
)

DEFAULT_VERSION = "2025-01"
OLDEST_VERSION = "2024-01"
LATEST_VERSION = "2025-10"
BUCKET_SIZE = 40
LEAK_PER_SECOND = 2.0
FREEZE_FROM = 10_000  # orders: from this size the generated shop is kept out of the GC's scans
MAX_LIMIT = 250
DEFAULT_LIMIT = 50
_VERSION = re.compile(r"^20\d\d-(01|04|07|10)$")
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"


class LeakyBucket:
    """Shopify's REST limit per app and shop: ``size`` requests, leaking ``rate`` per second."""

    def __init__(self, size: int = BUCKET_SIZE, rate: float = LEAK_PER_SECOND) -> None:
        self.size, self.rate = size, rate
        self.level = 0.0
        self.at = time.monotonic()

    def _leak(self) -> None:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.at) * self.rate)
        self.at = now

    def take(self) -> tuple[bool, float]:
        """(admitted, seconds to wait before the next request would be admitted)."""
        self._leak()
        if self.level + 1 > self.size:
            return False, (self.level + 1 - self.size) / self.rate
        self.level += 1
        return True, 0.0

    def used(self) -> int:
        return min(self.size, int(round(self.level + 0.4999)))


class SandboxState:
    """Everything one sandbox app holds: the shop, tokens, the bucket, faults and counters."""

    def __init__(self, seed: int, orders: int, epoch: int | None = None) -> None:
        self.shop = Shop(seed, now=epoch)
        enabled = gc.isenabled()
        gc.disable()  # generating allocates millions of long-lived dicts: no collections meanwhile
        try:
            self.shop.generate(orders)
        finally:
            if enabled:
                gc.enable()
        if orders >= FREEZE_FROM:
            # a large shop's records live as long as the process: move them out of the
            # collector's generations, or every full collection while pages are rendered
            # walks them all (twice the time of rendering 100,000 orders)
            gc.collect()
            gc.freeze()
        self.lock = threading.Lock()
        self.tokens: dict[str, set[str]] = {
            ACCESS_TOKEN: set(SCOPES),
            ACCESS_TOKEN_60D: set(SCOPES) - {"read_all_orders"},
        }
        self.buckets: dict[str, LeakyBucket] = {}
        self.bucket_size, self.leak_rate = BUCKET_SIZE, LEAK_PER_SECOND
        self.faults: dict[str, Any] = {}
        self.select_cache: dict[tuple, tuple[float, list[int]]] = {}
        # each record's JSON, rendered once while the shop stays at ``rendered_version``
        self.rendered: dict[tuple[str, int, str], bytes] = {}
        self.rendered_version = -1
        self.stats = {"requests": 0, "throttled": 0, "errors_5xx": 0, "unauthorized": 0}

    def bucket(self, token: str) -> LeakyBucket:
        with self.lock:
            b = self.buckets.get(token)
            if b is None:
                b = self.buckets[token] = LeakyBucket(self.bucket_size, self.leak_rate)
            return b

    def take_fault(self, name: str) -> bool:
        with self.lock:
            left = int(self.faults.get(name, 0) or 0)
            if left <= 0:
                return False
            self.faults[name] = left - 1
            return True

    def count(self, name: str) -> None:
        with self.lock:
            self.stats[name] += 1


def state() -> SandboxState:
    return current_app.extensions["shopify_sandbox"]


class BadRequest(Exception):
    """A 400 (or other 4xx) with Shopify's ``{"errors": …}`` body."""

    def __init__(self, errors: Any, status: int = 400) -> None:
        super().__init__(str(errors))
        self.errors, self.status = errors, status


def _error(errors: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    resp = jsonify({"errors": errors})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


# ---------------------------------------------------------------------- request gate
def _gate(version: str) -> tuple[str, set[str]] | Response:
    """Version, auth, faults and the bucket, in Shopify's order; the token and its scopes."""
    st = state()
    st.count("requests")
    if (not _VERSION.match(version) or version < OLDEST_VERSION) and version != "unstable":
        return _error("Not Found", 404)  # Shopify answers retired versions with 404
    token = request.headers.get("X-Shopify-Access-Token", "")
    scopes = st.tokens.get(token)
    if scopes is None or st.faults.get("revoked"):
        st.count("unauthorized")
        return _error(UNAUTHORIZED, 401)
    slow = float(st.faults.get("slow_seconds", 0) or 0)
    if slow > 0 and st.take_fault("slow_count"):
        time.sleep(slow)
    if st.take_fault("errors_5xx"):
        st.count("errors_5xx")
        return _error("Internal Server Error", int(st.faults.get("status_5xx", 503) or 503))
    bucket = st.bucket(token)
    with st.lock:
        storm = int(st.faults.get("storm_429", 0) or 0)
        if storm > 0:
            st.faults["storm_429"] = storm - 1
            ok, wait = False, 1.0
        else:
            ok, wait = bucket.take()
    if not ok:
        st.count("throttled")
        return _error(
            "Exceeded 2 calls per second for api client. Reduce request rates to resume "
            "uninterrupted service.",
            429,
            {
                "Retry-After": f"{max(wait, 0.5):.1f}",
                "X-Shopify-Shop-Api-Call-Limit": f"{bucket.size}/{bucket.size}",
            },
        )
    return token, scopes


def _finish(resp: Response, token: str, version: str) -> Response:
    b = state().bucket(token)
    with state().lock:
        resp.headers["X-Shopify-Shop-Api-Call-Limit"] = f"{b.used()}/{b.size}"
    resp.headers["X-Shopify-API-Version"] = version
    resp.headers["X-Request-Id"] = f"sandbox-{time.monotonic_ns()}"
    return resp


# ---------------------------------------------------------------------- parameters
def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequest({"limit": ["must be a number"]}) from None
    if limit < 1 or limit > MAX_LIMIT:
        raise BadRequest({"limit": [f"must be between 1 and {MAX_LIMIT}"]})
    return limit


_PAGING_OK = {"page_info", "limit", "fields"}


def _filters() -> tuple[dict[str, str], int | None]:
    """The request's filters and the id to continue after: from ``page_info`` when given
    (which then refuses every other filter, as Shopify does), else from the query."""
    limit = _limit()
    page_info = request.args.get("page_info")
    if page_info is None:
        args = {k: v for k, v in request.args.items() if k not in _PAGING_OK}
        return args, None
    extra = sorted(set(request.args) - _PAGING_OK)
    if extra:
        raise BadRequest(
            {"page_info": [f"cannot be combined with other parameters: {', '.join(extra)}"]}
        )
    try:
        decoded = json.loads(base64.urlsafe_b64decode(page_info.encode() + b"=="))
        args, after = dict(decoded["f"]), int(decoded["a"])
    except (ValueError, KeyError, TypeError):
        raise BadRequest({"page_info": ["Invalid value."]}) from None
    del limit
    return args, after


def _cursor(args: dict[str, str], after: int) -> str:
    raw = json.dumps({"f": args, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _window_start(scopes: set[str]) -> float | None:
    if "read_all_orders" in scopes:
        return None
    return state().shop.now() - WINDOW_DAYS * DAY


def _bounds(args: dict[str, str], field: str) -> tuple[float, float]:
    """The [min, max] of ``field`` the query asks for (open ends as infinities)."""
    low, high = args.get(f"{field}_min"), args.get(f"{field}_max")
    return (
        _parse_arg(low, f"{field}_min") if low else float("-inf"),
        _parse_arg(high, f"{field}_max") if high else float("inf"),
    )


def _parse_arg(raw: str, name: str) -> float:
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadRequest({name: [f"{raw} is not a valid date"]}) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=render.SHOP_TZ)
    return dt.timestamp()


def _check_args(args: dict[str, str]) -> None:
    for name, raw in args.items():
        if name.endswith(("_min", "_max")) and raw:
            _parse_arg(raw, name)
    if "ids" in args:
        try:
            [int(x) for x in args["ids"].split(",") if x]
        except ValueError:
            raise BadRequest({"ids": ["must be a list of ids"]}) from None


def _select(kind: str, args: dict[str, str], scopes: set[str]) -> list[int]:
    """Ids of ``kind`` matching ``args``, ascending. Cached per query until the shop changes,
    so following a ``Link`` through a large shop costs a page, not a scan."""
    st = state()
    window = _window_start(scopes) if kind == "orders" else None
    key = (kind, tuple(sorted(args.items())), window is None, st.shop.version)
    with st.lock:
        hit = st.select_cache.get(key)
    if hit is not None and (window is None or window - hit[0] <= 60):
        return hit[1]
    ids = _scan(kind, args, window)
    with st.lock:
        if len(st.select_cache) > 64:
            st.select_cache.clear()
        st.select_cache[key] = (window if window is not None else 0.0, ids)
    return ids


def _scan(kind: str, args: dict[str, str], window: float | None) -> list[int]:
    shop = state().shop
    _check_args(args)
    ids = {int(x) for x in args.get("ids", "").split(",") if x} or None
    since_id = int(args["since_id"]) if args.get("since_id", "").isdigit() else None
    created_lo, created_hi = _bounds(args, "created_at")
    out: list[int] = []
    if kind == "events":
        verbs = set(filter(None, args.get("verb", "").split(",")))
        types = set(filter(None, args.get("filter", "").split(",")))
        for e in shop.events:
            if verbs and e["verb"] not in verbs:
                continue
            if types and e["subject_type"] not in types:
                continue
            if since_id is not None and e["id"] <= since_id:
                continue
            if not created_lo <= e["created_at"] <= created_hi:
                continue
            out.append(e["id"])
        return sorted(out)
    table: dict[int, Any] = {
        "orders": shop.orders,
        "customers": shop.customers,
        "products": shop.products,
        "checkouts": shop.checkouts,
    }[kind]
    updated_lo, updated_hi = _bounds(args, "updated_at")
    processed = _bounds(args, "processed_at") if kind == "orders" else None
    status = args.get("status", "open") if kind in ("orders", "checkouts") else None
    if kind == "orders" and status not in ("open", "closed", "cancelled", "any"):
        raise BadRequest({"status": [f"{status} is not a valid status"]})
    fin = args.get("financial_status")
    for rid, rec in table.items():
        if ids is not None and rid not in ids:
            continue
        if since_id is not None and rid <= since_id:
            continue
        if window is not None and rec["created"] < window:
            continue
        if kind == "orders":
            if status == "open" and (rec["closed_at"] or rec["cancelled_at"]):
                continue
            if status == "closed" and not rec["closed_at"]:
                continue
            if status == "cancelled" and not rec["cancelled_at"]:
                continue
            if fin and fin != "any" and rec["financial_status"] != fin:
                continue
        if kind == "checkouts":
            if rec["completed_at"]:
                continue  # the resource lists abandoned checkouts only
            if status == "closed" and not rec["closed_at"]:
                continue
            if status == "open" and rec["closed_at"]:
                continue
        if not updated_lo <= rec["updated"] <= updated_hi:
            continue
        if not created_lo <= rec["created"] <= created_hi:
            continue
        if processed and not processed[0] <= rec.get("processed", rec["created"]) <= processed[1]:
            continue
        out.append(rid)
    out.sort()
    return out


def _record(kind: str, rid: int) -> Any:
    shop = state().shop
    if kind == "events":
        return shop.events_by_id()[rid]
    return {
        "orders": shop.orders,
        "customers": shop.customers,
        "products": shop.products,
        "checkouts": shop.checkouts,
    }[kind][rid]


def _render(kind: str, rec: Any) -> dict[str, Any]:
    shop = state().shop
    if kind == "orders":
        return render.order(rec, shop.customers.get(rec["customer_id"] or 0))
    if kind == "customers":
        return render.customer(rec)
    if kind == "products":
        return render.product(rec)
    if kind == "checkouts":
        return render.checkout(rec, shop.customers.get(rec["customer_id"] or 0))
    return render.event(rec)


def _fragment(kind: str, rid: int) -> bytes:
    """One record's JSON (the shop lock held), trimmed to the request's ``fields``: rendered
    on first use and kept until the shop changes, so paging through a large shop again costs
    a join per page, not a render per record."""
    st = state()
    if st.rendered_version != st.shop.version:
        st.rendered.clear()
        st.rendered_version = st.shop.version
    key = (kind, rid, request.args.get("fields") or "")
    frag = st.rendered.get(key)
    if frag is None:
        frag = st.rendered[key] = orjson.dumps(_trim(_render(kind, _record(kind, rid))))
    return frag


def _json_list(kind: str, frags: list[bytes]) -> bytes:
    return b'{"' + kind.encode() + b'":[' + b",".join(frags) + b"]}"


def _trim(obj: dict[str, Any]) -> dict[str, Any]:
    fields = request.args.get("fields")
    if not fields:
        return obj
    keep = {f.strip() for f in fields.split(",")}
    return {k: v for k, v in obj.items() if k in keep}


_PLURAL = {"orders", "customers", "products", "checkouts", "events"}


def listing(kind: str, token: str, scopes: set[str], version: str) -> Response:
    limit = _limit()
    args, after = _filters()
    st = state()
    with st.shop.lock:
        rows = _select(kind, args, scopes)
        start = bisect.bisect_right(rows, after) if after is not None else 0
        page = rows[start : start + limit]
        body = _json_list(kind, [_fragment(kind, rid) for rid in page])
    links = []
    base = f"{request.host_url.rstrip('/')}{request.path}"
    extra = {"limit": str(limit)}
    if request.args.get("fields"):
        extra["fields"] = request.args["fields"]
    if start > 0 and page:
        prev_after = rows[start - limit - 1] if start - limit - 1 >= 0 else -1
        q = urlencode({**extra, "page_info": _cursor(args, prev_after)})
        links.append(f'<{base}?{q}>; rel="previous"')
    if start + limit < len(rows) and page:
        q = urlencode({**extra, "page_info": _cursor(args, page[-1])})
        links.append(f'<{base}?{q}>; rel="next"')
    resp = Response(body, mimetype="application/json")
    if links:
        resp.headers["Link"] = ", ".join(links)
    return _finish(resp, token, version)


def counting(kind: str, token: str, scopes: set[str], version: str) -> Response:
    args = {k: v for k, v in request.args.items() if k not in _PAGING_OK}
    with state().shop.lock:
        n = len(_select(kind, args, scopes))
    return _finish(jsonify({"count": n}), token, version)


def single(kind: str, rid: str, token: str, scopes: set[str], version: str) -> Response:
    st = state()
    table = {"orders": st.shop.orders, "customers": st.shop.customers, "products": st.shop.products}
    if kind not in table or not rid.isdigit():
        return _finish(_error("Not Found", 404), token, version)
    with st.shop.lock:
        rec = table[kind].get(int(rid))
        window = _window_start(scopes) if kind == "orders" else None
        if rec is None or (window is not None and rec["created"] < window):
            return _finish(_error("Not Found", 404), token, version)
        body = b'{"' + kind[:-1].encode() + b'":' + _fragment(kind, int(rid)) + b"}"
    return _finish(Response(body, mimetype="application/json"), token, version)


def _dumps(body: Any) -> str:
    """Plain ``json.dumps``: ids stay JSON numbers with every digit, as Shopify sends them."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def shop_json(token: str, version: str) -> Response:
    shop = state().shop
    body = {
        "shop": {
            "id": SHOP_ID,
            "name": SHOP_NAME,
            "email": "owner@tributary-sandbox.example",
            "domain": SHOP_DOMAIN,
            "myshopify_domain": SHOP_DOMAIN,
            "province": "New York",
            "country": "US",
            "currency": "USD",
            "money_format": "${{amount}}",
            "iana_timezone": "America/New_York",
            "timezone": "(GMT-05:00) Eastern Time (US & Canada)",
            "primary_locale": "en",
            "plan_name": "basic",
            "plan_display_name": "Basic",
            "created_at": render.iso(shop.epoch - 500 * DAY),
            "updated_at": render.iso(shop.epoch - DAY),
            "shop_owner": "Sandbox Owner",
            "taxes_included": False,
        }
    }
    return _finish(Response(_dumps(body), mimetype="application/json"), token, version)


def admin_api(version: str, path: str) -> Response:
    gate = _gate(version)
    if isinstance(gate, Response):
        return gate
    token, scopes = gate
    if not path.endswith(".json"):
        return _finish(_error("Not Found", 404), token, version)
    parts = path[: -len(".json")].split("/")
    try:
        if parts == ["shop"]:
            return shop_json(token, version)
        if len(parts) == 1 and parts[0] in _PLURAL:
            return listing(parts[0], token, scopes, version)
        if len(parts) == 2 and parts[0] in _PLURAL and parts[1] == "count":
            return counting(parts[0], token, scopes, version)
        if len(parts) == 2 and parts[0] in _PLURAL:
            return single(parts[0], parts[1], token, scopes, version)
    except BadRequest as exc:
        return _finish(_error(exc.errors, exc.status), token, version)
    return _finish(_error("Not Found", 404), token, version)


def access_scopes() -> Response:
    st = state()
    token = request.headers.get("X-Shopify-Access-Token", "")
    scopes = st.tokens.get(token)
    if scopes is None or st.faults.get("revoked"):
        return _error(UNAUTHORIZED, 401)
    body = {"access_scopes": [{"handle": s} for s in sorted(scopes)]}
    return Response(_dumps(body), mimetype="application/json")


def create_app(seed: int = 1, orders: int = 500, epoch: int | None = None) -> Flask:
    """The sandbox app: ``orders`` seeded orders over the 400 days before ``epoch`` (epoch
    seconds, default now). The same seed, orders and epoch give the same shop."""
    from connectors.shopify import sandbox_control

    app = Flask("shopify_sandbox")
    app.extensions["shopify_sandbox"] = SandboxState(seed, orders, epoch)
    app.add_url_rule("/admin/api/<version>/<path:path>", view_func=admin_api, methods=["GET"])
    app.add_url_rule("/admin/oauth/access_scopes.json", view_func=access_scopes)
    app.register_blueprint(sandbox_control.bp)
    return app


def demo_bind_config(base_url: str) -> dict[str, Any]:
    """Bind settings for the shop served by a running sandbox at ``base_url``."""
    return {
        "shop": SHOP_DOMAIN,
        "access_token": ACCESS_TOKEN,
        "client_secret": CLIENT_SECRET,
        "api_base": base_url.rstrip("/"),
        "api_version": DEFAULT_VERSION,
    }
