"""Normalisation of identity values and the blocklist of junk values (I3, X4)."""

from __future__ import annotations

import re

_MOBILE_STRIP = re.compile(r"[\s\-\u2010-\u2015\u00a0().+/·_,'\"]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_TEST_MOBILE = re.compile(r"^1[3-9]\d0{8}$")  # 13800000000-style placeholders

JUNK_VALUES = frozenset(
    {"", "0", "-", "null", "none", "nil", "undefined", "unknown", "n/a", "na", "test", "false"}
)
_LONGEST_JUNK = max(map(len, JUNK_VALUES))
JUNK_MOBILES = frozenset({"13800138000", "12345678901", "13888888888"})
SHARED_MAILBOX_LOCALS = frozenset(
    {
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "info",
        "admin",
        "test",
        "support",
        "sales",
        "service",
        "contact",
        "null",
        "none",
    }
)
JUNK_EMAIL_DOMAINS = frozenset({"example.com", "example.org", "test.com", "localhost"})


class InvalidValue(ValueError):
    """A value that cannot be normalised; the message names the rule."""


def normalise_mobile(value: object) -> str:
    """Strip +86 / 0086, a leading 0, spaces and punctuation; 11 digits starting with 1 (I3)."""
    raw = "" if value is None else str(value).strip()
    digits = _MOBILE_STRIP.sub("", raw).translate(_FULL_WIDTH_DIGITS)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    digits = digits.lstrip("0")
    if not (len(digits) == 11 and digits.isascii() and digits.isdigit() and digits[0] == "1"):
        raise InvalidValue(
            f"mobile {raw!r} is not 11 digits starting with 1 after removing +86, "
            "leading 0, spaces and punctuation"
        )
    return digits


def normalise_email(value: object) -> str:
    raw = "" if value is None else str(value).strip()
    email = raw.lower()
    if not _EMAIL.match(email):
        raise InvalidValue(f"email {raw!r} is not an email address")
    return email


def normalise_identity(type_: str, value: object) -> str:
    """The canonical form of an identity value; raises InvalidValue."""
    if type_ == "mobile":
        return normalise_mobile(value)
    if type_ == "email":
        return normalise_email(value)
    text = value.strip() if type(value) is str else "" if value is None else str(value).strip()
    if not text:
        raise InvalidValue(f"{type_} is blank")
    if len(text) > 320:
        raise InvalidValue(f"{type_} is longer than 320 characters")
    return text


def junk_reason(type_: str, value: str) -> str | None:
    """Why a normalised value is a placeholder that must never link customers, or None."""
    if len(value) <= _LONGEST_JUNK and value.lower() in JUNK_VALUES:
        return f"{type_} {value!r} is a placeholder value"
    if type_ == "mobile":
        if value.count(value[1], 1) == 10 or value in JUNK_MOBILES or _TEST_MOBILE.match(value):
            return f"mobile {value} is a test number"
    elif type_ == "email":
        local, _, domain = value.partition("@")
        if local in SHARED_MAILBOX_LOCALS or domain in JUNK_EMAIL_DOMAINS:
            return f"email {value} is a shared or example mailbox"
    elif type_ != "customer_id" and len(value) >= 5 and value.count(value[0]) == len(value):
        return f"{type_} {value!r} repeats one character"
    return None
