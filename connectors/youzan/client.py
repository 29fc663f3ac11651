"""Youzan Open API client: JSON-only ``/auth/token``, the token in the query string only, the
token cached in the connection's credentials and refreshed before expiry or on 4202/4203,
and Youzan's error-in-HTTP-200 envelopes turned into typed errors. What the platform says
reaches messages only as a short sanitised code and message (``platform_text``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import requests

from hub.core.errors import (
    AuthError,
    ConfigError,
    HubError,
    NotPlatformApi,
    PermissionDenied,
    RateLimited,
    TokenExpired,
    TransientError,
)
from hub.sync.http import platform_text, response_host

DEFAULT_BASE = "https://open.youzanyun.com"
REFRESH_MARGIN_S = 600  # refresh a token this long before it expires, at most
REFRESH_SHARE = 0.1  # ... and never more than this share of the token's lifetime
_RETRYABLE_BUSINESS = {106000001, 106100118}  # documented timeouts
_GATEWAY = {
    4101: "rate limited by Youzan (4101)",
    4201: "Youzan refused the credentials or the authorization was revoked (4201)",
    4202: "access token expired (4202)",
    4203: "access token does not exist (4203)",
    4204: "the app lacks permission for this API (4204): buy the capability package",
    4007: "Youzan refused the request (4007): check the IP whitelist",
}


_TOKEN_ERRORS = {
    1000: "client_secret is wrong",
    1004: "the store's authorization expired or was revoked: authorize the app again",
    1005: "the authorization code is invalid or already used",
    1103: "client_id or the store's authorization (kdt_id) was not found",
    1105: "the app type does not allow this grant",
}


class YouzanApiError(HubError):
    """A business error answered by an API (``code``/``success:false`` or ``error_response``)."""

    def __init__(self, api: str, code: int | None, message: str) -> None:
        super().__init__(f"{api}: {platform_text(message)} (code {platform_text(code)})")
        self.code = code


def classify(response: requests.Response) -> Exception | None:
    """HttpClient hook: gateway errors arrive as HTTP 200 ``{"gw_err_resp": ...}``."""
    if response.status_code != 200:
        return None
    try:
        body = orjson.loads(response.content)
    except ValueError:
        return None
    response._yz_body = body  # type: ignore[attr-defined]  # parsed once
    gw = body.get("gw_err_resp") if isinstance(body, dict) else None
    if not gw or not isinstance(gw, dict):
        return None
    code, text = _code(gw.get("err_code")), platform_text(gw.get("err_msg") or "")
    message = f"{_GATEWAY.get(code, 'Youzan gateway error')}: {text}"
    if code == 4101:
        return RateLimited(message)
    if code in (4202, 4203):
        return TokenExpired(message)
    if code == 4204:
        return PermissionDenied(message)
    if code in (4201, 4007):
        return AuthError(message)
    if code in (4001, 4004, 4005):
        return ConfigError(f"Youzan rejected the call ({code}): {text}")
    return HubError(f"Youzan gateway error {platform_text(code)}: {text}")


def _code(value: Any) -> int | str | None:
    """A platform's error code fit for the lookups below (a fake server may send anything)."""
    return value if isinstance(value, int | str) else None


def _body(response: requests.Response) -> dict[str, Any]:
    """The JSON object answered; anything else is a ConfigError that never shows the body."""
    body = getattr(response, "_yz_body", None)
    if body is None:
        try:
            body = orjson.loads(response.content)
        except ValueError:
            body = None
    if not isinstance(body, dict):
        raise NotPlatformApi(
            f"{response_host(response)} answered HTTP {response.status_code} without a JSON "
            "object: is api_base the Youzan Open API?",
            host=response_host(response),
        )
    return body


class YouzanClient:
    """One store's API access. ``token_state`` holds ``access_token`` and ``token_expires``
    (epoch ms), and ``token_issued`` (epoch ms, when it was taken: its lifetime sets the refresh
    margin), and is persisted through ``save`` whenever a new token is taken."""

    def __init__(
        self,
        *,
        http: Any,
        client_id: str,
        client_secret: str,
        grant_id: str,
        api_base: str = DEFAULT_BASE,
        token_state: dict[str, Any] | None = None,
        save: Callable[[dict[str, Any]], None] = lambda _c: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.client_id = client_id
        self.client_secret = client_secret
        self.grant_id = str(grant_id)
        self.api_base = (api_base or DEFAULT_BASE).rstrip("/")
        self.token_state = dict(token_state or {})
        self.save = save
        self.clock = clock
        self.token_calls = 0
        self.authority_id: str | None = None  # the store the last token answer is for
        self.refused: set[str] = set()  # APIs refused for lack of permission (4204)

    # ------------------------------------------------------------------ token
    def token(self) -> str:
        """The cached token, or a new one when missing or about to expire."""
        token = self.token_state.get("access_token")
        expires_ms = int(self.token_state.get("token_expires") or 0)
        if token and expires_ms / 1000 - self.clock() > self.refresh_margin():
            return token
        return self.fetch_token(refresh=bool(token))

    def refresh_margin(self) -> float:
        """Seconds before expiry to take a new token: REFRESH_MARGIN_S, but never more than a
        tenth of the token's lifetime, so a short-lived token is not renewed on every call."""
        expires_ms = int(self.token_state.get("token_expires") or 0)
        issued_ms = int(self.token_state.get("token_issued") or 0)
        if not issued_ms or expires_ms <= issued_ms:
            return REFRESH_MARGIN_S
        return min(REFRESH_MARGIN_S, (expires_ms - issued_ms) / 1000 * REFRESH_SHARE)

    def fetch_token(self, *, refresh: bool) -> str:
        """POST /auth/token (JSON only). ``refresh`` mints a new token; else the valid one."""
        payload = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "authorize_type": "silent",
            "grant_id": self.grant_id,
            "refresh": refresh,
        }
        self.token_calls += 1
        issued = int(self.clock() * 1000)
        response = self.http.post(f"{self.api_base}/auth/token", json=payload)
        body = _body(response)
        if not body.get("success") or not body.get("data"):
            code = _code(body.get("code"))
            raise AuthError(
                f"Youzan refused the credentials for store {self.grant_id}: "
                f"{_TOKEN_ERRORS.get(code, 'token refused')} "
                f"({platform_text(body.get('message') or 'no message')}, "
                f"code {platform_text(code)})"
            )
        token, expires = _token_of(response, body["data"])
        authority = body["data"].get("authority_id")
        self.authority_id = None if authority is None else str(authority)
        self.token_state = {"access_token": token, "token_expires": expires, "token_issued": issued}
        expires_at = datetime.fromtimestamp(expires / 1000, UTC)
        self.save({**self.token_state, "expires_at": expires_at.isoformat()})
        return token

    @property
    def expires_at(self) -> datetime | None:
        ms = self.token_state.get("token_expires")
        return datetime.fromtimestamp(int(ms) / 1000, UTC) if ms else None

    # ------------------------------------------------------------------ calls
    def call(self, api: str, version: str, params: dict[str, Any]) -> Any:
        """Call ``api/version``; returns ``data`` (4.x) or ``response`` (3.0.0). An API refused
        for lack of permission is remembered in ``refused`` (PermissionDenied is raised)."""
        try:
            try:
                return self._call_once(api, version, params)
            except TokenExpired:
                self.fetch_token(refresh=True)  # 4202/4203: take a new token, retry once
                return self._call_once(api, version, params)
        except PermissionDenied:
            self.refused.add(api)
            raise

    def _call_once(self, api: str, version: str, params: dict[str, Any]) -> Any:
        url = f"{self.api_base}/api/{api}/{version}"
        response = self.http.post(
            url, params={"access_token": self.token()}, json=params, classify=classify
        )
        return unwrap(api, _body(response))


def _token_of(response: requests.Response, data: Any) -> tuple[str, int]:
    """``access_token`` and ``expires`` (epoch ms) of a token answer's ``data``."""
    try:
        return str(data["access_token"]), int(data["expires"])
    except (KeyError, TypeError, ValueError):
        raise NotPlatformApi(
            f"{response_host(response)} answered the token call without a usable "
            "access_token and expires: is api_base the Youzan Open API?",
            host=response_host(response),
        ) from None


def unwrap(api: str, body: dict[str, Any]) -> Any:
    """The payload of either envelope, or a typed error naming the API."""
    if "response" in body:
        return body["response"]
    if "error_response" in body:
        err = body["error_response"] if isinstance(body["error_response"], dict) else {}
        raise YouzanApiError(api, err.get("code"), err.get("msg") or "error")
    if body.get("success") and body.get("code") == 200:
        return body.get("data")
    code = _code(body.get("code"))
    if code in _RETRYABLE_BUSINESS:
        raise TransientError(
            f"{api}: {platform_text(body.get('message'))} (code {platform_text(code)})"
        )
    raise YouzanApiError(api, code, body.get("message") or "error")
