"""Hostile input of issue 20 point 12 and the one check every answer to it must pass."""

from __future__ import annotations

import json
from typing import Any

# Ids a route must refuse with a 404: beyond 64 bits, beyond the 32 bits of PostgreSQL's id
# columns, and the largest ids that fit (no such row).
BAD_IDS = ["99999999999999999999", "18446744073709551616", "9223372036854775808",
           "9223372036854775807", "2147483648", "2147483647", "0"]  # fmt: skip

# Values a query argument or form field must refuse (4xx) or ignore, never choke on (5xx).
BAD_VALUES = [
    "9223372036854775807", "99999999999999999999", "-9223372036854775809", "2147483648", "-1", "0",
    "²", "١٢", "1²", "①", "1e309", "nan", " 12 ", "\x00",
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-01-01", "9999-12-31",
    "9999-12-31T23:59:59.999999Z", "2024-02-30", "x" * 2000,
]  # fmt: skip

API_PREFIXES = ("/api/", "/webhooks/", "/webhooks")


def deep_json(depth: int) -> bytes:
    """``depth`` nested arrays: [[[...]]]."""
    return b"[" * depth + b"]" * depth


def assert_refused(what: str, response: Any, *, allow_success: bool = False) -> None:
    """No 5xx; a 4xx in the error shape of its part of the app (JSON or the HTML page)."""
    status = response.status_code
    assert status < 500, f"{what}: {status} {response.get_data(as_text=True)[:300]}"
    if status < 400:
        assert allow_success, f"{what}: {status}, expected a 4xx"
        return
    path = response.request.path
    if path.startswith(API_PREFIXES):
        assert response.mimetype == "application/json", f"{what}: {response.mimetype}"
        error = json.loads(response.get_data())["error"]
        assert error["code"] and error["message"], what
    else:
        assert response.mimetype == "text/html", f"{what}: {response.mimetype}"
        assert 'class="errorpage"' in response.get_data(as_text=True), what
