"""The HTTP client every connector shares: timeouts, retries with backoff and jitter,
``Retry-After`` and rate-limit headers, errors-in-200 classification, a call counter, and
logs that never show a token. Every connection goes through an egress policy (public https
addresses only, see ``hub.sync.egress``), redirects are never followed (platform calls carry
credentials), and what a platform answered reaches error messages only summarised."""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from hub.core.errors import (
    AuthError,
    ConfigError,
    PlatformUnreachable,
    RateLimited,
    TransientError,
)
from hub.sync.egress import EgressPolicy, guard

log = logging.getLogger(__name__)

SECRET_PARAMS = frozenset(
    {"access_token", "token", "refresh_token", "client_secret", "secret", "appsecret",
     "app_secret", "api_key", "apikey", "key", "sign", "signature", "password", "code"}
)  # fmt: skip
REDACTED = "***"
CALL_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
PLATFORM_TEXT_MAX = 80
# Calls made while a person waits (a bind from the UI, the API or the CLI): fail fast.
INTERACTIVE: dict[str, Any] = {"max_retries": 0, "timeout": (3.0, 10.0)}

Classifier = Callable[[requests.Response], Exception | None]
OnCall = Callable[[str, str, int | None, float], None]


def redact_url(url: str) -> str:
    """The URL with secret query values (``access_token`` and the like) replaced by ***."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, REDACTED if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def platform_text(value: Any) -> str:
    """A code or message taken from a platform's answer, made fit for an error message: one
    line of printable characters, at most PLATFORM_TEXT_MAX of them."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(value)).split())
    if len(text) > PLATFORM_TEXT_MAX:
        return text[: PLATFORM_TEXT_MAX - 1] + "…"
    return text


def default_classify(response: requests.Response) -> Exception | None:
    """Status-code classification: 3xx refused (never followed), 429 rate limited, 5xx
    transient, 401/403 credentials."""
    status = response.status_code
    if 300 <= status < 400:
        return ConfigError(
            f"{response_host(response)} answered a redirect (HTTP {status}); the hub does not "
            "follow redirects from a platform: check the API address"
        )
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        return RateLimited(f"rate limited by {response_host(response)} (HTTP 429)", retry_after)
    if status >= 500:
        return TransientError(f"{response_host(response)} answered HTTP {status}", retry_after)
    if status in (401, 403):
        return AuthError(f"{response_host(response)} refused the credentials (HTTP {status})")
    return None


def response_host(response: requests.Response) -> str:
    """The host (and port) that answered, for error messages."""
    return urlsplit(response.url or "").netloc or "the platform"


class HttpClient:
    """A ``requests.Session`` wrapper. ``classify`` (per client or per call) may turn any
    response, including an HTTP 200 with an error code in its body, into a typed error;
    RateLimited and TransientError are retried with backoff, others raised at once."""

    def __init__(
        self,
        *,
        base_url: str = "",
        timeout: float | tuple[float, float] = (5.0, 30.0),
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_total_wait: float = 120.0,
        slow_down_at: float = 0.8,
        leak_per_second: float = 2.0,
        classify: Classifier | None = None,
        on_call: OnCall | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        headers: dict[str, str] | None = None,
        egress: EgressPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_total_wait = max_total_wait
        self.slow_down_at = slow_down_at
        self.leak_per_second = leak_per_second
        self.classify = classify
        self.on_call = on_call
        self.sleep = sleep
        self.session = session or requests.Session()
        guard(self.session, egress or EgressPolicy())
        # requests reads proxies, CA bundle and .netrc from the environment on every call
        # when trust_env is on; read them once per origin instead (see _environment).
        self._trust_env = self.session.trust_env
        self.session.trust_env = False
        self._env: dict[tuple[str, str], dict[str, Any]] = {}
        if headers:
            self.session.headers.update(headers)
        self.calls = 0
        self.waited = 0.0
        self._pause = 0.0

    # ------------------------------------------------------------------ public
    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def request(
        self, method: str, url: str, *, classify: Classifier | None = None, **kwargs: Any
    ) -> requests.Response:
        """Send with retries. Raises the classified error once retries or wait run out."""
        url = self._with_params(self._absolute(url), kwargs.pop("params", None))
        kwargs.setdefault("timeout", self.timeout)
        kwargs["allow_redirects"] = False  # a redirect would carry the credentials elsewhere
        waited_here = 0.0
        for attempt in range(self.max_retries + 1):
            self._wait(self._take_pause())
            try:
                response = self._send(method, url, **kwargs)
                error = self._classify(response, classify)
            except requests.RequestException as exc:
                host, late = urlsplit(url).netloc, isinstance(exc, requests.Timeout)
                error = PlatformUnreachable(
                    f"could not reach {host}: {_failure(exc)}", host=host, timed_out=late
                )
            else:
                self._pause = self._rate_limit_pause(response)
                if error is None:
                    return response
            if not isinstance(error, TransientError) or attempt == self.max_retries:
                raise error
            delay = self._delay(error, attempt)
            if waited_here + delay > self.max_total_wait:
                raise error
            log.warning(
                "retrying %s %s in %.1fs: %s", method, redact_url(url), delay, error
            )  # fmt: skip
            self._wait(delay)
            waited_here += delay
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ internals
    def _absolute(self, url: str) -> str:
        if self.base_url and not url.startswith(("http://", "https://")):
            return f"{self.base_url}/{url.lstrip('/')}"
        return url

    @staticmethod
    def _with_params(url: str, params: Any) -> str:
        """Put the query into the URL, so that the logged (redacted) URL is the one sent."""
        if not params:
            return url
        prepared = requests.models.PreparedRequest()
        prepared.prepare_url(url, params)
        return str(prepared.url)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls += 1
        started = time.monotonic()
        status: int | None = None
        try:
            if self._trust_env:
                for key, value in self._environment(url).items():
                    kwargs.setdefault(key, value)
            response = self.session.request(method, url, **kwargs)
            status = response.status_code
            return response
        finally:
            elapsed = time.monotonic() - started
            log.debug("%s %s -> %s in %.3fs", method, redact_url(url), status, elapsed)
            if self.on_call is not None:
                self.on_call(method, redact_url(url), status, elapsed)

    def _environment(self, url: str) -> dict[str, Any]:
        """What requests would take from the environment for ``url``, cached per origin."""
        origin = urlsplit(url)[:2]
        settings = self._env.get(origin)
        if settings is None:
            settings = {}
            proxies = requests.utils.get_environ_proxies(url)
            if proxies:
                settings["proxies"] = proxies
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle and self.session.verify is True:
                settings["verify"] = bundle
            auth = None if self.session.auth else requests.utils.get_netrc_auth(url)
            if auth:
                settings["auth"] = auth
            self._env[origin] = settings
        return settings

    def _classify(
        self, response: requests.Response, per_call: Classifier | None
    ) -> Exception | None:
        hook = per_call or self.classify
        error = hook(response) if hook is not None else None
        return error if error is not None else default_classify(response)

    def _delay(self, error: Exception, attempt: int) -> float:
        """Retry-After when the platform gave one, else exponential backoff, full jitter."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _rate_limit_pause(self, response: requests.Response) -> float:
        """Seconds to wait before the next call, read from the rate-limit headers."""
        headers = response.headers
        match = CALL_LIMIT.match(headers.get("X-Shopify-Shop-Api-Call-Limit", ""))
        if match:
            used, limit = int(match.group(1)), int(match.group(2))
            over = used - limit * self.slow_down_at
            return max(0.0, over / self.leak_per_second) if limit else 0.0
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is not None and remaining.strip() == "0":
            reset = headers.get("X-RateLimit-Reset")
            return _reset_seconds(reset) if reset else 1.0
        return 0.0

    def _take_pause(self) -> float:
        pause, self._pause = self._pause, 0.0
        return pause

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waited += seconds
            self.sleep(seconds)


def _failure(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "no connection within the time allowed"
    if isinstance(exc, requests.Timeout):
        return "no answer within the time allowed"
    return "the connection failed"


def _reset_seconds(value: str) -> float:
    """``X-RateLimit-Reset``: seconds from now, or an epoch timestamp."""
    try:
        number = float(value)
    except ValueError:
        return 1.0
    if number > 1_000_000_000:  # an epoch time
        return max(0.0, number - time.time())
    return max(0.0, number)
