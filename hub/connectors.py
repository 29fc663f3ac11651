"""The connector interface. A connector maps a platform to canonical records; it never touches
the database. The engine gives it its configuration, an HTTP client and a way to persist
credentials it refreshed (tokens), and reads pages from its streams."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from marshmallow import Schema

from hub.core.records import Record

CAPABILITIES = frozenset({"pull", "push", "ship", "file_import"})


@dataclass(slots=True)
class BindInfo:
    """What a successful credentials check tells about the store. ``origin`` is None when the
    platform itself vouched for ``external_id`` (its official API said the credentials are that
    store's): the store is then claimed across all workspaces (Y1). Otherwise it is the origin
    of the API base the store was checked against (a sandbox, a custom gateway), and the claim
    is kept apart under it, so that such a binding never blocks the real store."""

    external_id: str
    name: str
    expires_at: datetime | None = None
    origin: str | None = None


@dataclass(slots=True)
class SyncWindow:
    """The slice of time one sync covers: ``start`` inclusive, ``end`` = the sync's start (cap)."""

    start: datetime
    end: datetime
    full: bool = False


@dataclass(slots=True)
class Page:
    """One page of a stream: its records, the stream's position after it, and the total if known.

    ``state`` must be JSON (dicts, lists, strings, numbers): the engine serialises it the moment
    the page is yielded and commits that text with the page's records, so it is the position
    after the page's last record, whatever the stream does with its objects afterwards. A new
    dict (and new lists) per page all the same: never share a live object with the reader."""

    records: list[Record]
    state: dict[str, Any]
    total: int | None = None


@dataclass(slots=True)
class WebhookInfo:
    """What the intake needs from a verified delivery."""

    delivery_id: str
    topic: str | None = None


@dataclass(slots=True)
class WebhookAck:
    body: str | bytes
    status: int = 200
    content_type: str = "application/json"


@dataclass
class ConnectorContext:
    """Given by the engine; ``save_credentials`` persists (encrypted) refreshed credentials.
    ``official_bases`` maps a platform to a stand-in for its official API base: set only by
    tests (see ``hub.sync.runtime.official_bases``), empty in production."""

    connection_id: int | None
    credentials: dict[str, Any]
    http: Any  # hub.sync.http.HttpClient
    save_credentials: Callable[[dict[str, Any]], None] = lambda _creds: None
    extra: dict[str, Any] = field(default_factory=dict)
    official_bases: dict[str, str] = field(default_factory=dict)


class Stream(ABC):
    """Reads pages from a window, resuming from ``state`` (the last committed page's state,
    decoded from JSON: a fresh object the stream may keep)."""

    name: ClassVar[str]
    primary_key: ClassVar[str] = "external_id"
    cursor_field: ClassVar[str] = "updated_at"

    @abstractmethod
    def read(self, window: SyncWindow, state: dict[str, Any]) -> Iterator[Page]:
        """Yield pages in order. ``state`` is {} at the start of a window."""


class Connector(ABC):
    """Base class: subclasses set the class attributes and implement their capabilities."""

    platform: ClassVar[str]
    display_name: ClassVar[str]
    settings_schema: ClassVar[type[Schema]]
    capabilities: ClassVar[frozenset[str]] = frozenset({"pull"})
    sales_channel: ClassVar[str | None] = None
    # Dotted module of this platform's simulator: it provides
    # ``create_app(seed, orders, epoch=None) -> Flask`` (epoch: the shop's "now" in epoch seconds)
    # (the platform's API, for `hub sandbox`, the demo, tests, benchmarks) and
    # ``demo_bind_config(base_url) -> dict`` (bind settings pointing at a running sandbox).
    sandbox_module: ClassVar[str | None] = None

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext) -> None:
        self.config = dict(config)
        self.context = context

    @classmethod
    def secret_fields(cls) -> set[str]:
        """Fields whose schema metadata says ``secret``: encrypted at rest, masked on read."""
        return {
            name for name, f in cls.settings_schema().fields.items() if f.metadata.get("secret")
        }

    @classmethod
    def platform_base_fields(cls) -> list[str]:
        """Fields whose metadata says ``platform_base``: URLs of the platform's API, which must
        be https (unless private platforms are allowed, see ``hub.sync.egress``)."""
        return [
            name
            for name, f in cls.settings_schema().fields.items()
            if f.metadata.get("platform_base")
        ]

    @classmethod
    def validate_config(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate bind settings; raises marshmallow.ValidationError naming the fields."""
        return cls.settings_schema().load(dict(data))

    @abstractmethod
    def check(self) -> BindInfo:
        """Prove the credentials work (e.g. take a token); raise ConfigError if not."""

    def streams(self) -> list[Stream]:
        return []

    # --- webhooks (capability "push")
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Verify the signature over the raw body, in constant time."""
        return False

    def webhook_info(self, headers: Mapping[str, str], body: bytes) -> WebhookInfo:
        raise NotImplementedError

    def webhook_ack(self) -> WebhookAck:
        return WebhookAck(body='{"ok":true}')

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> list[Record]:
        """Turn a stored delivery into records (may call the platform's API)."""
        raise NotImplementedError
