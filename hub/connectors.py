"""The connector interface. A connector maps a platform to canonical records; it never touches
the database. The engine gives it its configuration, an HTTP client and a way to persist
credentials it refreshed (tokens), and reads pages from its streams. A file connector
(``FileConnector``, below) is fed by uploaded files instead: the import job opens them and
streams their batches."""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from marshmallow import Schema

from hub.core import zones
from hub.core.errors import N_, Refused, ShipmentRefused
from hub.core.records import CustomerRecord, OrderRecord, Record

CAPABILITIES = frozenset({"pull", "push", "ship", "migrate", "file_import"})


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
    # What the store's credentials may not do (a permission the platform refused for a call
    # the connector does without): shown on bind and on the store page, never a failure.
    warnings: list[str] = field(default_factory=list)
    # What the platform says the credentials were granted (Shopify: the access scopes), as
    # the platform names them: kept on the store and shown on its page and in the API.
    granted: list[str] = field(default_factory=list)
    # Credentials the check took (an access token and its expiry), kept encrypted with the
    # store's secrets, so that the first sync reuses them instead of taking new ones.
    credentials: dict[str, Any] = field(default_factory=dict)


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


# W2: a store's migration rules (``Connection.settings["migration"]``, a connector's
# ``config["migration"]``) when never set, and the rules in force over them.
MIGRATION_DEFAULTS: Mapping[str, Any] = {
    "product_status": "same",  # same | warehouse | on_sale
    "freight": None,  # the shop's own; {"mode": "flat", "amount"} | {"mode": "template", ...}
    "group": "Mini Shop migration",
    "skip_migrated": True,
}


def migration_rules(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The migration rules in force: the stored ones over ``MIGRATION_DEFAULTS``."""
    stored = (settings or {}).get("migration") or {}
    known = {k: v for k, v in dict(stored).items() if k in MIGRATION_DEFAULTS}
    return {**MIGRATION_DEFAULTS, **known}


@dataclass(slots=True)
class Carrier:
    """A carrier the platform ships with: its code as the platform names it (WeChat's
    ``delivery_id`` "SF", Youzan's express id as a string) and its display name."""

    code: str
    name: str


def resolve_carrier(
    wanted: str, known: Iterable[Carrier], aliases: Mapping[str, str] | None = None
) -> Carrier:
    """The carrier ``wanted`` names among the platform's: its code, its name (any case), or a
    short code in ``aliases`` (a connector's ``carrier_aliases``: SF for Youzan's id 7).
    ShipmentRefused ("carrier") naming it otherwise."""
    text = wanted.strip()
    code = (aliases or {}).get(text.upper(), text)
    for carrier in known:
        if carrier.code in (text, code) or carrier.name.casefold() == text.casefold():
            return carrier
    raise ShipmentRefused(
        "carrier",
        N_("carrier: %(carrier)s is not one of the shop's carriers"),
        field="carrier",
        carrier=wanted,
    )


@dataclass(slots=True)
class Shipment:
    """Ship an order's unshipped items with one carrier and waybill (W8)."""

    order_external_id: str
    carrier: str  # a Carrier.code
    waybill: str


@dataclass(slots=True)
class ShipResult:
    """What the shop took: the external ids of the order lines sent now, those left out as
    already shipped, and the order as the shop has it afterwards (re-read), which the hub
    ingests like a synced order so the hub shows it shipped at once."""

    shipped_lines: list[str]
    skipped_lines: list[str] = field(default_factory=list)
    order: OrderRecord | None = None


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
    # The stored (decrypted) credentials as they are now, re-read: another process may have
    # refreshed a token meanwhile. None when nothing is stored (a bind's check).
    load_credentials: Callable[[], dict[str, Any]] | None = None
    # A cross-process lock by key (``with context.lock("...")``), e.g. around a token refetch
    # that revokes the previous token. None: no lock (a connector then locks nothing).
    lock: Callable[[str], AbstractContextManager[Any]] | None = None


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
    # How to register the store's push URL on the platform (a connector with "push"), in
    # plain English marked for translation; shown beside the URL on the store page.
    webhook_setup: ClassVar[str | None] = None
    # Query-string fields of a push the connector reads (WeChat signs in the query string):
    # the intake hands them over in the headers as ``X-Webhook-Query-<name>``.
    webhook_query_fields: ClassVar[tuple[str, ...]] = ()
    # Automatic sync (Y5, W7): the minutes between a store's automatic syncs when bound
    # without a choice, and the fewest allowed (None: the hub's, Connection.INTERVAL_DEFAULT
    # and INTERVAL_MIN); and the streams an automatic sync reads less often than every time:
    # stream name -> minutes (e.g. products daily while orders sync every 5 minutes).
    sync_interval_default: ClassVar[int | None] = None
    sync_interval_min: ClassVar[int | None] = None
    stream_intervals: ClassVar[Mapping[str, int]] = {}

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext) -> None:
        self.config = dict(config)
        self.context = context

    def warnings(self) -> list[str]:
        """What this connector did without so far (a call the platform refused for lack of
        permission, say), in plain words: kept on the store and shown on its page."""
        return []

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

    def webhook_challenge(self, headers: Mapping[str, str]) -> WebhookAck | None:
        """A GET on the push URL (a platform's URL check, e.g. WeChat's ``echostr``): the
        answer, or None (the intake answers 404)."""
        return None

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> list[Record]:
        """Turn a stored delivery into records (may call the platform's API)."""
        raise NotImplementedError

    # --- shipping back (capability "ship", W8)
    def carriers(self) -> list[Carrier]:
        """The carriers the platform ships with, in its order."""
        raise NotImplementedError

    def ship(self, shipment: Shipment) -> ShipResult:
        """Push a shipment of the order's items not yet shipped back to the shop. Reads the
        order on the shop first; raises ``hub.core.errors.ShipmentRefused`` (code
        already_shipped, after_sale, not_shippable, carrier, waybill, not_found) with a plain
        reason instead of sending what the shop would refuse."""
        raise NotImplementedError

    # --- migration (capability "migrate", W2-W3)
    def freight_templates(self) -> list[dict[str, Any]]:
        """The shop's freight templates as the platform gives them (copied once, after the
        first migration)."""
        raise NotImplementedError


# --------------------------------------------------------------------------- file imports
# The contract between a file connector (capability "file_import") and the hub's import job.
#
# A file connector opens the uploaded files (refusing them before anything is written when the
# files or their headers are wrong) and streams batches of canonical records, each record
# carrying the source rows it came from so that the job can write exactly those rows, with a
# reason, to the failure file when the row or the record fails. Opening reads only each file's
# header (a bounded preview, what a web request may do); the import job calls ``prepare`` and
# ``batches``, which read the whole files within the connector's limits. The hub knows a file
# connector only through this contract: its kind, what it produces (``entity``), its checks
# against the database (``precheck``), whether its columns are mapped by the user
# (``column_mapping``) and its demo samples; never by its kind's name.

BATCH_CHARS = 8 * 1024 * 1024  # text one batch keeps, whatever its row count


class SourceRow(Protocol):
    """One data row of an uploaded file: its line (or row number) and its cells as text."""

    line: int
    cells: list[str]


class SourceTable(Protocol):
    """The uploaded file whose rows go into the failure file."""

    format: str  # xlsx | csv


class FailureSink(Protocol):
    """The failure file: the failed rows, each with its reason."""

    def add(self, cells: Sequence[str], reason: str) -> None: ...

    def close(self) -> Path | None:
        """Finish the file; its path, or None when no row failed."""


@dataclass(slots=True)
class Item:
    """A record and the rows of the failure file it came from."""

    record: Record
    rows: list[SourceRow]


@dataclass(slots=True)
class RowFailure:
    row: SourceRow
    reason: str  # names the field (column) and the rule


@dataclass
class Batch:
    items: list[Item] = field(default_factory=list)
    failures: list[RowFailure] = field(default_factory=list)
    skipped: int = 0  # rows left out by rule (e.g. Tmall orders in a state not taken)
    rows: int = 0  # data rows this batch covers
    chars: int = 0  # text of the rows it keeps (for the failure file)
    # Records taken only from rows that did not fail (e.g. products found in order rows, S6):
    # called with the failed rows' line numbers after the batch is applied.
    late: Callable[[set[int]], list[Item]] | None = None

    def add_row(self, row: SourceRow) -> None:
        self.rows += 1
        self.chars += sum(map(len, row.cells))

    def full(self, size: int) -> bool:
        """``size`` rows, or fewer holding BATCH_CHARS of text (long rows: a small workbook
        can repeat a long shared string on every row)."""
        return self.rows >= size or self.chars >= BATCH_CHARS


@dataclass
class ImportContext:
    """What the hub knows that the mapping needs: the workspace's custom fields (I2) and its
    time zone, in which a spreadsheet time without an offset is read."""

    custom_identities: dict[str, str] = field(default_factory=dict)  # name -> label
    custom_properties: dict[str, str] = field(default_factory=dict)
    time_zone: str = zones.DEFAULT_ZONE  # IANA name

    @property
    def zone(self) -> ZoneInfo:
        return zones.zone(self.time_zone)


class Prechecks(Protocol):
    """Checks of imported records against the database, offered by the hub
    (``hub.imports.precheck``) to a file connector's ``precheck`` hook."""

    def customers(self, records: list[CustomerRecord]) -> dict[int, str]:
        """Reasons by index for customer records that must fail (I4)."""
        ...

    def merge_stored_lines(self, records: list[OrderRecord]) -> None:
        """Add the stored lines an order record does not mention to it (S4)."""
        ...


class FileImport(ABC):
    """One opened import. ``table`` is the file whose rows go into the failure file."""

    table: SourceTable
    summary: dict[str, Any]

    def prepare(self) -> None:  # noqa: B027 (optional hook)
        """Read what must be checked before anything is written (the whole file against the
        row limit, in-file duplicates); raises ValidationFailed. Called once, by the job."""

    @abstractmethod
    def total_rows(self) -> int:
        """Data rows of the failure-file table (for progress), once prepared."""

    @abstractmethod
    def batches(self, size: int) -> Iterator[Batch]:
        """Stream the file as batches of about ``size`` rows."""


class FileConnector(Connector):
    """A connector fed by uploaded files instead of an API. Nothing to bind."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"file_import"})
    import_kind: ClassVar[str]  # the name used by `hub import <kind>` and the API
    entity: ClassVar[str]  # what the import creates and updates: "customers" | "orders"
    file_count: ClassVar[int] = 1  # how many files one import takes
    column_mapping: ClassVar[bool] = False  # the user maps its columns (preview: mapping, targets)
    samples: ClassVar[tuple[str, ...]] = ()  # demo files in ``samples/`` beside the module
    # Refusal of another number of files: says which files the import expects (%(count)s: chosen).
    files_expected: ClassVar[str] = N_(
        "This import takes one file (.xlsx, .csv or .txt); you chose %(count)s."
    )

    def check(self) -> BindInfo:
        return BindInfo(external_id=self.platform, name=self.display_name)

    @classmethod
    def check_count(cls, files: Sequence[Any]) -> None:
        """Refuse another number of files than ``file_count``, saying which files are expected."""
        if len(files) != cls.file_count:
            raise Refused(cls.files_expected, field="file", count=len(files))

    @classmethod
    def check_upload(cls, files: Sequence[tuple[Path, str]]) -> None:
        """What the upload step checks before the next steps: the number of files and, in a
        connector that can tell, that they are the files it takes. Raises ValidationFailed."""
        cls.check_count(files)

    @classmethod
    def make_context(
        cls,
        identities: dict[str, str],
        properties: dict[str, str],
        time_zone: str = zones.DEFAULT_ZONE,
    ) -> ImportContext:
        return ImportContext(
            custom_identities=identities, custom_properties=properties, time_zone=time_zone
        )

    @classmethod
    def precheck(cls, records: list[Record], checks: Prechecks) -> dict[int, str]:
        """Before a batch is applied: reasons by record index for records that must fail. The
        hook may also complete records from the database (``checks.merge_stored_lines``)."""
        return {}

    @classmethod
    def sample_files(cls) -> list[Path]:
        """The demo's sample files of this kind, in upload order."""
        folder = Path(sys.modules[cls.__module__].__file__ or "").parent / "samples"
        return [folder / name for name in cls.samples]

    @classmethod
    @abstractmethod
    def failure_writer(cls, path: Path, table: SourceTable) -> FailureSink:
        """The failure file of ``table``: same format, same columns, plus a reason column."""

    @classmethod
    @abstractmethod
    def preview(cls, files: Sequence[tuple[Path, str]], context: ImportContext) -> dict[str, Any]:
        """What the upload page shows before the import: each file's header (``headers``); with
        ``column_mapping``, also the suggested ``mapping`` and every possible ``targets``."""

    @classmethod
    @abstractmethod
    def template(cls) -> tuple[list[str], list[list[str]]]:
        """The template's headers (required ones marked *) and example rows."""

    @classmethod
    @abstractmethod
    def write_template(cls, path: Path) -> Path:
        """Write the downloadable template (.xlsx or .csv by the path's suffix)."""

    @classmethod
    @abstractmethod
    def open_import(
        cls, files: Sequence[tuple[Path, str]], settings: dict[str, Any], context: ImportContext
    ) -> FileImport:
        """Open (path, original name) files; raises ValidationFailed before anything is written."""
