"""HttpClient against a real local HTTP server (http.server in a thread on 127.0.0.1)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from hub.core.errors import AuthError, RateLimited, TokenExpired, TransientError
from hub.sync.egress import EgressPolicy
from hub.sync.http import HttpClient, parse_retry_after, redact_url


class Script:
    """What the server answers, one (status, headers, body) per request, the last repeating."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], dict]] = [(200, {}, {"ok": True})]
        self.paths: list[str] = []

    def next(self, path: str) -> tuple[int, dict[str, str], dict]:
        self.paths.append(path)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            status, headers, body = script.next(self.path)
            raw = json.dumps(body).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def client(base: str, sleeps: list[float], **kwargs) -> HttpClient:
    """A client of the local test server (a private address, allowed here)."""
    return HttpClient(base_url=base, sleep=sleeps.append, session=requests.Session(),
                      egress=EgressPolicy(allow_private=True), **kwargs)  # fmt: skip


def test_http_retry_after_seconds_is_honoured_and_calls_counted(server):
    base, script = server
    script.answers = [(429, {"Retry-After": "7"}, {}), (503, {"Retry-After": "2"}, {}),
                      (200, {}, {"n": 1})]  # fmt: skip
    sleeps: list[float] = []
    seen: list[tuple[str, int | None]] = []
    http = client(base, sleeps, on_call=lambda m, u, s, _t: seen.append((u, s)))
    assert http.get("/orders").json() == {"n": 1}
    assert sleeps == [7.0, 2.0]
    assert http.calls == 3
    assert [s for _u, s in seen] == [429, 503, 200]
    assert len(script.paths) == 3


def test_http_retry_after_as_http_date(server):
    base, script = server
    when = datetime.now(UTC) + timedelta(seconds=30)
    script.answers = [(429, {"Retry-After": format_datetime(when, usegmt=True)}, {}),
                      (200, {}, {})]  # fmt: skip
    sleeps: list[float] = []
    client(base, sleeps).get("/x")
    assert 27 <= sleeps[0] <= 30


def test_http_5xx_without_header_backs_off_exponentially_then_gives_up(server):
    base, script = server
    script.answers = [(500, {}, {})]
    sleeps: list[float] = []
    http = client(base, sleeps, max_retries=3, backoff_base=1.0)
    with pytest.raises(TransientError, match="HTTP 500"):
        http.get("/x")
    assert http.calls == 4
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        assert 2**attempt / 2 <= slept <= 2**attempt  # jittered, growing


def test_http_max_total_wait_stops_retrying(server):
    base, script = server
    script.answers = [(429, {"Retry-After": "50"}, {})]
    sleeps: list[float] = []
    http = client(base, sleeps, max_total_wait=120)
    with pytest.raises(RateLimited) as info:
        http.get("/x")
    assert sleeps == [50.0, 50.0]
    assert info.value.retry_after == 50.0
    assert http.calls == 3


def test_http_error_in_200_body_is_classified_and_retried(server):
    base, script = server
    script.answers = [(200, {}, {"code": 4101}), (200, {}, {"code": 0, "data": [1]})]

    def youzan_like(response: requests.Response):
        code = response.json().get("code")
        if code == 4101:
            return RateLimited("Youzan 4101: too many calls", retry_after=1.5)
        if code == 40001:
            return TokenExpired("token expired")
        return None

    sleeps: list[float] = []
    http = client(base, sleeps, classify=youzan_like)
    assert http.get("/x").json()["data"] == [1]
    assert sleeps == [1.5]

    script.answers = [(200, {}, {"code": 40001})]
    with pytest.raises(TokenExpired):
        http.get("/x")  # not retried by the client: the connector refreshes


def test_http_401_is_a_configuration_error_not_retried(server):
    base, script = server
    script.answers = [(401, {}, {})]
    sleeps: list[float] = []
    http = client(base, sleeps)
    with pytest.raises(AuthError):
        http.get("/x")
    assert http.calls == 1 and sleeps == []


def test_http_shopify_call_limit_slows_down_before_429(server):
    base, script = server
    script.answers = [(200, {"X-Shopify-Shop-Api-Call-Limit": "39/40"}, {}),
                      (200, {"X-Shopify-Shop-Api-Call-Limit": "10/40"}, {})]  # fmt: skip
    sleeps: list[float] = []
    http = client(base, sleeps)
    http.get("/a")
    assert sleeps == []  # the pause is taken before the NEXT call
    http.get("/b")
    assert sleeps == [pytest.approx((39 - 32) / 2.0)]
    http.get("/c")
    assert len(sleeps) == 1  # 10/40 is far from the limit


def test_http_connection_error_is_transient(unused_port):
    sleeps: list[float] = []
    http = client(f"http://127.0.0.1:{unused_port}", sleeps, max_retries=2)
    with pytest.raises(TransientError, match=f"could not reach 127.0.0.1:{unused_port}: the con"):
        http.get("/x")
    assert http.calls == 3 and len(sleeps) == 2


def test_http_logs_never_show_tokens(server, caplog):
    base, script = server
    script.answers = [(500, {}, {}), (200, {}, {})]
    caplog.set_level(logging.DEBUG, logger="hub.sync.http")
    client(base, []).get("/x", params={"access_token": "s3cr3t", "page": 2})
    assert "s3cr3t" not in caplog.text
    assert "access_token=***" in caplog.text
    assert "page=2" in caplog.text


def test_redact_url_and_parse_retry_after():
    assert redact_url("https://h/p?a=1&access_token=abc&sign=x") == (
        "https://h/p?a=1&access_token=***&sign=***"
    )
    assert redact_url("https://h/p") == "https://h/p"
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("nonsense") is None
    past = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(past) == 0.0
