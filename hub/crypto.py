"""Credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) keyed by HUB_ENCRYPTION_KEY."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

MASK = "••••••••"


class DecryptionError(RuntimeError):
    """Stored credentials could not be read with the current key."""


def _fernet(key: str | None = None) -> Fernet:
    key = key or current_app.config["ENCRYPTION_KEY"]
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError):
        # Accept any passphrase: derive a Fernet key from it.
        digest = hashlib.sha256(str(key).encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_json(data: dict[str, Any], key: str | None = None) -> bytes:
    return _fernet(key).encrypt(json.dumps(data, sort_keys=True).encode())


def decrypt_json(
    token: bytes | None, key: str | None = None, ttl: int | None = None
) -> dict[str, Any]:
    """The JSON object of ``token``; DecryptionError when the key does not open it, or when it
    is older than ``ttl`` seconds (if given)."""
    if not token:
        return {}
    try:
        return json.loads(_fernet(key).decrypt(token, ttl=ttl))
    except InvalidToken as exc:
        raise DecryptionError(
            "stored credentials cannot be decrypted with HUB_ENCRYPTION_KEY"
        ) from exc


def mask(values: dict[str, Any], secret_fields: set[str]) -> dict[str, Any]:
    """Secrets read back as a placeholder; sent back unchanged, the placeholder keeps them."""
    return {k: (MASK if k in secret_fields and v else v) for k, v in values.items()}


def unmask(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    return {k: (old.get(k) if v == MASK else v) for k, v in new.items()}
