"""A faithful local simulator of the Youzan Open API (PLATFORMS.md §1.8).

``create_app(seed, orders)`` returns a Flask app serving ``/auth/token`` and
``/api/{name}/{version}`` with Youzan's envelopes and error codes, plus the control API under
``/_sandbox`` (see ``sandbox_control``). ``demo_bind_config(base_url)`` gives bind settings
that work against it. Run it with ``hub sandbox youzan --port N --seed S --orders N``.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from typing import Any

from flask import Flask, current_app, jsonify, request

from connectors.youzan.sandbox_api import APIS, ApiError
from connectors.youzan.sandbox_data import CLIENT_ID, CLIENT_SECRET, KDT_ID, Shop
from connectors.youzan.sandbox_render import Cipher

TOKEN_TTL_MS = 7 * 86400 * 1000


class SandboxState:
    """Everything one sandbox app holds: the shop, tokens, faults and counters."""

    def __init__(self, seed: int, orders: int, epoch: int | None = None) -> None:
        self.shop = Shop(seed)
        self.shop.generate(orders, now=epoch)
        self.shop.changes.clear()
        self.cipher = Cipher(seed)
        self.lock = threading.Lock()
        self.tokens: dict[str, int] = {}  # token -> expires (epoch ms)
        self.current: str | None = None
        self.revoked = False
        self.faults: dict[str, Any] = {}
        self.api_calls = 0
        self.token_calls = 0

    # ------------------------------------------------------------------ tokens
    def issue_token(self, refresh: bool) -> tuple[str, int]:
        with self.lock:
            self.token_calls += 1
            now_ms = int(time.time() * 1000)
            cur = self.current
            if cur and not refresh and self.tokens.get(cur, 0) > now_ms:
                return cur, self.tokens[cur]
            if cur:
                self.tokens.pop(cur, None)  # refresh: the old token dies at once
            ttl = int(self.faults.get("token_ttl_ms", TOKEN_TTL_MS))
            token = secrets.token_hex(16)
            self.tokens[token] = now_ms + ttl
            self.current = token
            return token, now_ms + ttl

    def scope(self) -> str:
        """The token answer's scope: the granted capability groups (partial when APIs of a
        group are denied)."""
        denied = {a.split(".")[1] for a in self.faults.get("denied_apis") or () if "." in a}
        return " ".join(g for g in ("trade", "user", "item", "shop", "cloud") if g not in denied)

    def check_token(self, token: str | None) -> tuple[int, str] | None:
        """A gateway error (code, message) or None when the token is good."""
        if not token:
            return 4201, "access_token 不能为空"
        if self.revoked:
            return 4201, "授权已失效"
        expires = self.tokens.get(token)
        if expires is None:
            return 4203, "Token 不存在"
        if expires <= int(time.time() * 1000):
            return 4202, "Token 已过期"
        return None

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0

    def take_fault(self, name: str) -> bool:
        with self.lock:
            left = int(self.faults.get(name, 0))
            if left <= 0:
                return False
            self.faults[name] = left - 1
            return True

    def lagged(self, tid: str | None) -> Any:
        entry = self.shop.snapshots.get(tid or "")
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1] or "missing"


def state() -> SandboxState:
    return current_app.extensions["youzan_sandbox"]


def _gw_error(code: int, message: str):
    body = {
        "gw_err_resp": {"trace_id": "yz7-" + uuid.uuid4().hex, "err_code": code, "err_msg": message}
    }
    return jsonify(body)  # Youzan answers HTTP 200 even for errors


def auth_token():
    if not request.is_json:
        message = f"Content type '{request.mimetype}' not supported"
        return jsonify({"success": False, "code": 1000, "data": None, "message": message})
    body = request.get_json(silent=True) or {}
    err = _check_grant(body)
    if err:
        return jsonify({"success": False, "code": err[0], "data": None, "message": err[1]})
    token, expires = state().issue_token(bool(body.get("refresh")))
    data = {
        "access_token": token,
        "expires": expires,
        "scope": state().scope(),
        "authority_id": str(state().faults.get("authority_id") or KDT_ID),
    }
    return jsonify({"success": True, "code": 200, "data": data, "message": None})


def _check_grant(body: dict[str, Any]) -> tuple[int, str] | None:
    if body.get("client_id") != CLIENT_ID:
        return 1103, "client 不存在"
    if body.get("authorize_type") != "silent":
        return 1105, "应用类型与授权方式不匹配"
    if body.get("client_secret") != CLIENT_SECRET:
        return 1000, "client_secret 错误"
    if str(body.get("grant_id")) != KDT_ID:
        return 1103, "授权关系不存在"
    if state().revoked:
        return 1004, "授权已过期"
    return None


def api_without_version(name: str):
    return _gw_error(4001, f"path 错误: /api/{name}")


def api(name: str, version: str):
    st = state()
    handler = APIS.get((name, version))
    if handler is None:
        return _gw_error(4005, f"API 不存在: {name}/{version}")
    if not (request.mimetype or "").startswith("application/json"):
        return _gw_error(4007, "不支持的 Content-Type")
    params = request.get_json(silent=True)
    if not isinstance(params, dict):
        return _gw_error(4004, "请求体不是合法的 JSON")
    failed = st.check_token(request.args.get("access_token"))
    if failed:
        return _gw_error(*failed)
    with st.lock:
        st.api_calls += 1
    if name in (st.faults.get("denied_apis") or ()):  # the app was granted part of the API
        return _gw_error(4204, "无权限访问该接口, 请先订购能力包")
    if st.take_fault("errors_5xx"):
        return "Bad Gateway", 502
    if st.take_fault("throttle"):
        return _gw_error(4101, "请求太频繁")
    return _respond(handler, st, params)


def _respond(handler: Any, st: SandboxState, params: dict[str, Any]):
    try:
        payload, envelope = handler(st, params)
    except ApiError as exc:
        if handler.__name__ in _V3:  # 3.0.0 APIs use the old error envelope
            return jsonify({"error_response": {"code": exc.code, "msg": exc.message}})
        return jsonify(
            {
                "trace_id": "yz7-" + uuid.uuid4().hex,
                "code": exc.code,
                "success": False,
                "message": exc.message,
                "data": None,
            }
        )
    if envelope == "3x":
        return jsonify({"response": payload})
    return jsonify(
        {
            "trace_id": "yz7-" + uuid.uuid4().hex,
            "code": 200,
            "success": True,
            "message": "successful",
            "data": payload,
        }
    )


_V3 = {"refund_search", "shop_get", "logistics_confirm", "express_get"}


def create_app(seed: int = 1, orders: int = 500, epoch: int | None = None) -> Flask:
    """The sandbox app: ``orders`` seeded trades over the 400 days before ``epoch`` (epoch
    seconds, default now). The same seed, orders and epoch give the same shop."""
    from connectors.youzan import sandbox_control

    app = Flask("youzan_sandbox")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["youzan_sandbox"] = SandboxState(seed, orders, epoch)
    app.add_url_rule("/auth/token", view_func=auth_token, methods=["POST"])
    app.add_url_rule("/api/<name>", view_func=api_without_version, methods=["POST", "GET"])
    app.add_url_rule("/api/<name>/<version>", view_func=api, methods=["POST", "GET"])
    app.register_blueprint(sandbox_control.bp)
    return app


def demo_bind_config(base_url: str) -> dict[str, Any]:
    """Bind settings for a store served by a running sandbox at ``base_url``."""
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "kdt_id": KDT_ID,
        "api_base": base_url.rstrip("/"),
        "sender_mobile": "13800138000",  # the shop's mobile, for SF Express shipments
    }
