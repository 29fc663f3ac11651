"""A faithful local simulator of the WeChat Mini Shop API (PLATFORMS.md §2.8, §6).

``create_app(seed, orders, epoch=None, products=None)`` serves ``GET /cgi-bin/token`` and
``POST /product/<path>?access_token=TOKEN`` (handlers in ``sandbox_api``) with WeChat's
``{errcode, errmsg}`` envelope in HTTP 200, plus the control API under ``/_sandbox``
(``sandbox_control``). ``demo_bind_config(base_url)`` gives bind settings that work against it.
Run it with ``hub sandbox wechat_shop --port N --seed S --orders N``.

Tokens: each fetch issues a new 7200 s token and revokes the previous one after an overlap
(``token_overlap``, default 300 s of shop time). A revoked token answers 40001, an expired
one 42001, one never issued 40014, a missing one 41001.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import orjson
from flask import Flask, Response, current_app, request

from connectors.wechat_shop import sandbox_life
from connectors.wechat_shop.sandbox_api import APIS
from connectors.wechat_shop.sandbox_data import APPID, PUSH_TOKEN, SECRET, Shop
from connectors.wechat_shop.sandbox_life import Refused
from connectors.wechat_shop.sandbox_render import Renderer, envelope

TOKEN_TTL = 7200
TOKEN_OVERLAP = 300


class SandboxState:
    """Everything one sandbox app holds: the shop, tokens, faults and ground-truth counters."""

    def __init__(self, seed: int, orders: int, epoch: int | None, products: int) -> None:
        self.shop = Shop(seed)
        sandbox_life.generate(self.shop, orders, products, epoch or self.shop.now())
        self.renderer = Renderer()
        self.selections: dict[tuple, list[int]] = {}
        self.lock = threading.Lock()
        self.tokens: dict[str, list[int]] = {}  # token -> [expires_at, revoke_at (0: live)]
        self.current: str | None = None
        self.token_overlap = TOKEN_OVERLAP
        self.token_ttl = TOKEN_TTL
        self.token_fetches = 0
        self.api_calls: dict[str, int] = {}
        self.faults: list[dict[str, Any]] = []
        self.shipments: list[dict[str, Any]] = []

    def issue_token(self) -> str:
        with self.lock:
            self.token_fetches += 1
            now = self.shop.now()
            if self.current and not self.tokens[self.current][1]:
                self.tokens[self.current][1] = now + self.token_overlap
            token = secrets.token_urlsafe(48)
            self.tokens[token] = [now + self.token_ttl, 0]
            self.current = token
            return token

    def check_token(self, token: str | None) -> tuple[int, str] | None:
        if not token:
            return 41001, "access_token missing"
        entry = self.tokens.get(token)
        if entry is None:
            return 40014, "invalid access_token"
        now = self.shop.now()
        if entry[1] and now >= entry[1]:
            return 40001, "invalid credential, access_token is invalid or not latest"
        if now >= entry[0]:
            return 42001, "access_token expired"
        return None

    def take_fault(self, path: str, exact: bool = False) -> dict[str, Any] | None:
        """The first armed fault for ``path`` (or, unless ``exact``, for every path), counted
        down. The token endpoint takes only faults naming it (``"cgi-bin/token"``)."""
        paths = (path,) if exact else (None, path)
        with self.lock:
            for fault in self.faults:
                if fault["count"] > 0 and fault.get("path") in paths:
                    fault["count"] -= 1
                    return dict(fault)
        return None


def state() -> SandboxState:
    return current_app.extensions["wechat_shop_sandbox"]


def _json(raw: bytes) -> Response:
    return Response(raw, mimetype="application/json")


def _error(errcode: int, errmsg: str) -> Response:
    return _json(envelope(errcode=errcode, errmsg=errmsg))  # HTTP 200, as WeChat does


def cgi_token() -> Response:
    args = request.args
    if args.get("grant_type") != "client_credential":
        return _error(40002, "invalid grant_type")
    if args.get("appid") != APPID:
        return _error(40013, "invalid appid")
    if args.get("secret") != SECRET:
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    st = state()
    fault = st.take_fault(
        "cgi-bin/token", exact=True
    )  # e.g. 40164: the caller's IP is not whitelisted
    if fault and "errcode" in fault:
        code = int(fault["errcode"])
        return _error(code, _FAULT_MSGS.get(code, "injected fault"))
    token = st.issue_token()
    return _json(orjson.dumps({"access_token": token, "expires_in": st.token_ttl}))


_FAULT_MSGS = {
    40164: "invalid ip, not in whitelist",
    -1: "system error",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, mustslower retry next minute",
}


def product_api(path: str) -> Response:
    st = state()
    handler = APIS.get(path)
    if handler is None:
        return _error(40066, f"invalid url: /product/{path}")
    failed = st.check_token(request.args.get("access_token"))
    if failed:
        return _error(*failed)
    with st.lock:
        st.api_calls[path] = st.api_calls.get(path, 0) + 1
    fault = st.take_fault(path)
    if fault:
        if fault.get("slow"):
            time.sleep(float(fault["slow"]))
        elif fault.get("http"):
            return Response("Service Unavailable", status=int(fault["http"]))
        elif "errcode" in fault:
            code = int(fault["errcode"])
            return _error(code, _FAULT_MSGS.get(code, "injected fault"))
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        return _error(47001, "data format error: the body must be a JSON object")
    try:
        out = handler(st, body)
    except Refused as exc:
        return _error(exc.errcode, exc.errmsg)
    return _json(out if isinstance(out, bytes) else envelope(out))


def create_app(
    seed: int = 1, orders: int = 500, epoch: int | None = None, products: int | None = None
) -> Flask:
    """The sandbox app: ``products`` SPUs (default ``orders // 25``, 30..2000) and ``orders``
    orders over the 400 days before ``epoch`` (epoch seconds, default now). The same
    arguments give the same shop."""
    from connectors.wechat_shop import sandbox_control

    if products is None:
        products = min(2000, max(30, orders // 25))
    app = Flask("wechat_shop_sandbox")
    app.extensions["wechat_shop_sandbox"] = SandboxState(seed, orders, epoch, products)
    app.add_url_rule("/cgi-bin/token", view_func=cgi_token, methods=["GET"])
    app.add_url_rule("/product/<path:path>", view_func=product_api, methods=["POST"])
    app.register_blueprint(sandbox_control.bp)
    return app


def demo_bind_config(base_url: str) -> dict[str, Any]:
    """Bind settings for a mini shop served by a running sandbox at ``base_url``."""
    return {
        "appid": APPID,
        "secret": SECRET,
        "push_token": PUSH_TOKEN,
        "api_base": base_url.rstrip("/"),
    }
