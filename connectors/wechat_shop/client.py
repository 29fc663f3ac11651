"""WeChat Mini Shop API client (PLATFORMS.md §2): ``GET /cgi-bin/token`` for a 7200 s token,
then ``POST {base}/product/...?access_token=`` with a JSON body. Errors are HTTP 200 with a
non-zero ``errcode``: -1 (busy) retried with a short backoff, 45011 (per-minute quota) waited
out until the next minute, 45009 (daily quota) a transient error the engine retries later,
40001/42001/40014 (stale token) refreshed once and retried.

A refetch revokes the previous token, so a store has ONE token, stored (encrypted) on the
connection and reused by every process until it nears expiry. A refetch runs under a
cross-process lock keyed by the appid and, once the lock is held, re-reads the stored token:
another process may have refreshed it meanwhile. Bodies are parsed with orjson, whose integers
never pass through a float (``order_id`` > 2^53 stays exact)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
import requests

from connectors.wechat_shop.pages import decode_answer
from hub.core.errors import (
    ConfigError,
    HubError,
    NotPlatformApi,
    RateLimited,
    TokenExpired,
    TransientError,
)
from hub.sync.http import platform_text, response_host

DEFAULT_BASE = "https://api.weixin.qq.com"
TOKEN_KEYS = ("access_token", "token_expires", "token_issued")
REFRESH_MARGIN_S = 300  # take a new token this long before the stored one expires, at most
REFRESH_SHARE = 0.1  # ... and never more than this share of the token's lifetime
STALE_TOKEN = {40001, 40014, 42001}
BUSY = -1
MINUTE_QUOTA = 45011
DAILY_QUOTA = 45009
DAILY_RETRY_S = 3600.0  # the engine tries again after this long (the quota resets daily)

Loader = Callable[[], dict[str, Any]]
Locker = Callable[[str], AbstractContextManager[Any]]


class WechatApiError(HubError):
    """A business error (``errcode`` not 0) answered by an API."""

    def __init__(self, path: str, code: Any, message: Any) -> None:
        super().__init__(f"{path}: {platform_text(message)} (errcode {platform_text(code)})")
        self.code = code


def no_lock(_key: str) -> AbstractContextManager[Any]:
    return contextlib.nullcontext()


def loads(content: bytes) -> Any:
    """JSON with integers kept exact (orjson never reads an integer through a float)."""
    return orjson.loads(content)


def _envelope(response: requests.Response, path: str = "") -> dict[str, Any] | None:
    """The answer's JSON object, parsed once; a listing of orders decoded to the fields the
    hub reads (``connectors.wechat_shop.pages``), anything else whole."""
    body = getattr(response, "_wx_body", None)
    if body is None:
        body = decode_answer(path, response.content) if path else None
        if body is None:
            try:
                body = loads(response.content)
            except ValueError:
                return None
        response._wx_body = body  # type: ignore[attr-defined]  # parsed once
    return body if isinstance(body, dict) else None


def seconds_to_next_minute(now: float) -> float:
    """45011: the per-minute quota frees at the next minute (at least a tenth of a second)."""
    return max(0.1, 60.0 - now % 60.0)


class WechatShopClient:
    """One mini shop's API access. ``token_state`` holds ``access_token``, ``token_expires``
    (epoch s) and ``token_issued``; ``save`` persists a new token; ``load`` re-reads the stored
    credentials; ``lock(key)`` is a cross-process lock (``hub.sync.runtime``)."""

    def __init__(
        self,
        *,
        http: Any,
        appid: str,
        secret: str,
        api_base: str = DEFAULT_BASE,
        token_state: dict[str, Any] | None = None,
        save: Callable[[dict[str, Any]], None] = lambda _c: None,
        load: Loader | None = None,
        lock: Locker = no_lock,
        clock: Callable[[], float] = time.time,
        quota_wait: float = 60.0,
    ) -> None:
        self.http = http
        self.appid = appid
        self.secret = secret
        self.api_base = (api_base or DEFAULT_BASE).rstrip("/")
        self.token_state = dict(token_state or {})
        self.save = save
        self.load = load
        self.lock = lock
        self.clock = clock
        self.quota_wait = quota_wait
        self.token_calls = 0
        self.throttled = 0  # -1, 45011 and 45009 answers (retried, waited out or deferred)

    # ------------------------------------------------------------------ token
    def _valid(self, state: dict[str, Any]) -> str | None:
        token = state.get("access_token")
        expires = float(state.get("token_expires") or 0)
        issued = float(state.get("token_issued") or 0)
        margin: float = REFRESH_MARGIN_S
        if issued and expires > issued:  # a short-lived token is not renewed on every call
            margin = min(margin, (expires - issued) * REFRESH_SHARE)
        return token if token and expires - self.clock() > margin else None

    def token(self) -> str:
        """The stored token, or a new one when missing or about to expire."""
        return self._valid(self.token_state) or self.refresh(stale=None)

    def refresh(self, *, stale: str | None) -> str:
        """A new token unless another process already stored one (other than ``stale``, the
        token the platform just refused), under the store's cross-process lock."""
        with self.lock(f"hub:wechat_shop:token:{self.appid}"):
            if self.load is not None:
                stored = {
                    k: v for k, v in self.load().items() if k.startswith(("access_", "token_"))
                }
                token = self._valid(stored)
                if token and token != stale:
                    self.token_state = stored
                    return token
            return self.fetch_token()

    def fetch_token(self) -> str:
        """``GET /cgi-bin/token`` (client_credential); 40013 names appid, 40001 secret."""
        self.token_calls += 1
        issued = self.clock()
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        response = self.http.get(f"{self.api_base}/cgi-bin/token", params=params)
        body = self._body(response, "/cgi-bin/token")
        code = body.get("errcode") or 0
        if code == 40013:
            raise ConfigError(f"appid: WeChat does not know the appid {self.appid} (40013)")
        if code in (40001, 40125):
            raise ConfigError(f"secret: WeChat refused the secret of appid {self.appid} ({code})")
        if code == 40164:
            raise ConfigError(
                "WeChat refused the token call from this server's IP address (40164): add it "
                "to the mini program's IP whitelist"
            )
        if code:
            raise ConfigError(
                f"appid: WeChat refused a token for {self.appid}: "
                f"{platform_text(body.get('errmsg'))} (errcode {platform_text(code)})"
            )
        try:
            token, lifetime = str(body["access_token"]), int(body["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise NotPlatformApi(
                f"{response_host(response)} answered the token call without access_token and "
                "expires_in: is api_base the WeChat API?",
                host=response_host(response),
            ) from None
        self.token_state = {
            "access_token": token,
            "token_expires": issued + lifetime,
            "token_issued": issued,
        }
        expires_at = datetime.fromtimestamp(issued + lifetime, UTC)
        self.save({**self.token_state, "expires_at": expires_at.isoformat()})
        return token

    @property
    def expires_at(self) -> datetime | None:
        expires = self.token_state.get("token_expires")
        return datetime.fromtimestamp(float(expires), UTC) if expires else None

    # ------------------------------------------------------------------ calls
    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``path`` with a JSON body; the answer (errcode 0). A stale token is refreshed
        once (under the lock) and the call retried."""
        token = self.token()
        try:
            return self._call_once(path, body, token)
        except TokenExpired:
            return self._call_once(path, body, self.refresh(stale=token))

    def _call_once(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        response = self.http.post(
            f"{self.api_base}{path}",
            params={"access_token": token},
            data=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
            classify=partial(self._classify, path=path),
        )
        answer = self._body(response, path)
        code = answer.get("errcode") or 0
        if code == DAILY_QUOTA:
            raise TransientError(
                f"{path}: the mini shop's daily API quota is used up (45009); the hub tries "
                "again later",
                retry_after=DAILY_RETRY_S,
            )
        if code:
            raise WechatApiError(path, code, answer.get("errmsg") or "error")
        return answer

    def _classify(self, response: requests.Response, path: str = "") -> Exception | None:
        """HttpClient hook: -1 and 45011 are retried by the HttpClient, a stale token raised."""
        if response.status_code != 200:
            return None
        body = _envelope(response, path)
        code = (body or {}).get("errcode") or 0
        if code == BUSY:
            self.throttled += 1
            return TransientError("WeChat answered -1 (system busy)")
        if code == MINUTE_QUOTA:
            self.throttled += 1
            wait = min(seconds_to_next_minute(self.clock()), self.quota_wait)
            return RateLimited("WeChat's per-minute API quota is used up (45011)", wait)
        if code == DAILY_QUOTA:
            self.throttled += 1
        if code in STALE_TOKEN:
            return TokenExpired(f"WeChat refused the access token ({code})")
        return None

    def _body(self, response: requests.Response, path: str) -> dict[str, Any]:
        body = _envelope(response, path)
        if body is None:
            raise NotPlatformApi(
                f"{response_host(response)} answered {path} with HTTP {response.status_code} "
                "without a JSON object: is api_base the WeChat API?",
                host=response_host(response),
            )
        return body
