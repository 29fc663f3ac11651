"""Bound stores: bind (Y1), unbind, sync settings (Y5), the store list (Y2) and credentials."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub import crypto, registry
from hub.connectors import BindInfo, Connector
from hub.core.errors import (
    N_,
    AlreadyBound,
    Conflict,
    MigrationRunning,
    NotFound,
    NotPlatformApi,
    PlatformUnreachable,
    Refused,
    StoreApiNotApi,
    StoreApiTimeout,
    StoreApiUnreachable,
    ValidationFailed,
)
from hub.extensions import db
from hub.models import SYNC_MODES, Connection, SyncRun, utcnow
from hub.services import parsing
from hub.sync import runtime
from hub.sync.egress import EgressRefused
from hub.sync.runtime import connection_config

log = logging.getLogger(__name__)

# Settings the hub keeps on a store beside the connector's bind settings (W2, W3).
HUB_SETTINGS = ("migration", "freight_templates", "freight_templates_copied_at")


# What a person binding a store reads when the store's address fails (hub.web translates).
TIMED_OUT = N_(
    "The store's API did not answer within %(seconds)s seconds: check the address (%(host)s)."
)
UNREACHABLE = N_("The store's API could not be reached at %(host)s: check the address.")
NOT_THE_API = N_(
    "The store's address (%(host)s) answered something that is not the platform's API: "
    "check the address."
)


def connector_class(platform: str) -> type[Connector]:
    """The registered connector class, or ValidationFailed naming the platform."""
    try:
        return registry.get(platform)
    except registry.UnknownPlatform:
        raise ValidationFailed(f"unknown platform {platform!r}", field="platform") from None


def validate_settings(cls: type[Connector], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Load bind settings through the connector's schema; errors name the field."""
    try:
        return cls.validate_config(settings)
    except ValidationError as exc:
        field, messages = _first_error(exc.messages)
        raise ValidationFailed(f"{field_label(cls, field)}: {messages}", field=field) from None


def field_label(cls: type[Connector], name: str) -> str:
    """What the bind form calls setting ``name`` (its schema label), else the name."""
    found = cls.settings_schema().fields.get(name)
    return str(found.metadata.get("label") or name) if found is not None else name


def _first_error(messages: Any) -> tuple[str, str]:
    if isinstance(messages, dict) and messages:
        field, value = next(iter(messages.items()))
        text = "; ".join(value) if isinstance(value, list) else str(value)
        return str(field), text
    return "settings", str(messages)


def check_store(
    platform: str, config: Mapping[str, Any], connection_id: int | None = None
) -> BindInfo:
    """The connector's credentials check, made while a person waits: short timeouts, no
    retries. Platform bases must be https unless private platforms are allowed; an address
    the hub refuses to reach names the setting that holds it."""
    cls = connector_class(platform)
    bases = cls.platform_base_fields()
    if not current_app.config.get("ALLOW_PRIVATE_PLATFORMS"):
        _require_https(cls, config, bases)
    unsaved = Connection(id=connection_id, platform=platform)  # never added to the session
    connector = runtime.connector_for(unsaved, config=config, interactive=True)
    field = bases[0] if bases else None
    try:
        return connector.check()
    except EgressRefused as exc:
        if not bases:
            raise
        raise ValidationFailed(f"{field_label(cls, bases[0])}: {exc}", field=bases[0]) from None
    except PlatformUnreachable as exc:
        if exc.timed_out:
            seconds = runtime.interactive_timeout(current_app.config)
            raise StoreApiTimeout(TIMED_OUT, field=field, seconds=f"{seconds:g}",
                                  host=exc.host) from None  # fmt: skip
        raise StoreApiUnreachable(UNREACHABLE, field=field, host=exc.host) from None
    except NotPlatformApi as exc:
        raise StoreApiNotApi(NOT_THE_API, field=field, host=exc.host) from None


def _require_https(cls: type[Connector], config: Mapping[str, Any], fields: list[str]) -> None:
    for name in fields:
        if urlsplit(str(config.get(name) or "")).scheme != "https":
            raise Refused(
                N_("%(label)s: enter an address starting with https:// (the platform is only "
                   "reached over HTTPS)."),
                field=name, label=field_label(cls, name),
            )  # fmt: skip


def claim_key(info: BindInfo) -> str:
    """What ``bound_key`` holds: the store id when the platform vouched for it (claimed across
    all workspaces), else ``id@origin`` of the custom base, which never blocks the real store."""
    store = str(info.external_id)
    return store if info.origin is None else f"{store}@{info.origin}"


def _split(cls: type[Connector], config: Mapping[str, Any]) -> tuple[dict, dict]:
    dumped = cls.settings_schema().dump(dict(config))
    secrets = cls.secret_fields()
    plain = {k: v for k, v in dumped.items() if k not in secrets}
    secret = {k: v for k, v in dumped.items() if k in secrets and v is not None}
    return plain, secret


def bind(
    workspace_id: int,
    platform: str,
    settings: Mapping[str, Any],
    *,
    name: str | None = None,
    sync_mode: str = "manual",
    interval_minutes: Any = None,
) -> Connection:
    """Check the credentials and bind the store to this workspace (Y1: one workspace at a time),
    with its sync settings (Y5). The UI, API and CLI ask for them and start the first sync."""
    cls = connector_class(platform)
    if sync_mode == "auto" and interval_minutes in (None, ""):
        interval_minutes = interval_bounds(platform)[1]  # the platform's own (W7: 5 minutes)
    interval = check_sync_choice(sync_mode, interval_minutes, platform)
    config = validate_settings(cls, settings)
    info = check_store(platform, config)
    key = claim_key(info)
    _refuse_if_bound(workspace_id, platform, info.external_id, key)
    plain, secret = _split(cls, config)
    conn = Connection(
        workspace_id=workspace_id,
        platform=platform,
        external_id=str(info.external_id),
        bound_key=key,
        name=(name or info.name or str(info.external_id))[:200],
        settings=plain,
        credentials_enc=crypto.encrypt_json({**secret, **info.credentials}),
        status="active",
        sync_mode=sync_mode,
        sync_interval_minutes=interval,
        credential_expires_at=info.expires_at,
        warnings=list(info.warnings) or None,
        granted=list(info.granted) or None,
    )
    db.session.add(conn)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent bind of the same store won the race
        db.session.rollback()
        _refuse_if_bound(workspace_id, platform, info.external_id, key)
        raise
    log.info("bound %s store %s as connection %s", platform, key, conn.id)
    return conn


def _refuse_if_bound(workspace_id: int, platform: str, external_id: str, key: str) -> None:
    holder = db.session.scalar(
        select(Connection).where(Connection.platform == platform, Connection.bound_key == key)
    )
    if holder is None:
        return
    if holder.workspace_id == workspace_id:
        raise AlreadyBound(
            f"store {external_id} is already bound to this workspace "
            f"(store #{holder.id}); unbind it first to bind it again"
        )
    raise AlreadyBound(
        f"store {external_id} is already bound to another workspace; unbind it there first"
    )


def get(workspace_id: int, connection_id: int) -> Connection:
    """A connection of this workspace; another workspace's id is NotFound."""
    conn = db.session.scalar(
        select(Connection).where(
            Connection.id == connection_id, Connection.workspace_id == workspace_id
        )
    )
    if conn is None:
        raise NotFound(f"connection {connection_id} does not exist in this workspace")
    return conn


def get_any(connection_id: int) -> Connection:
    """A connection of any workspace: for the operator's CLI only."""
    conn = db.session.get(Connection, connection_id)
    if conn is None:
        raise NotFound(f"connection {connection_id} does not exist")
    return conn


def ensure_syncable(connection: Connection) -> None:
    """May this store sync? Not when it is unbound or its sync is disabled (Y5): Conflict."""
    if not connection.is_bound:
        raise Conflict(f"store {connection.name!r} is unbound; bind it again to sync it")
    if connection.sync_mode == "disabled":
        raise Conflict("sync is disabled for this store; change its sync settings")


def latest_run(connection: Connection) -> SyncRun | None:
    """The store's latest run, finished or not: what its ``sync_status`` shows (Y2)."""
    return _latest_runs([connection.id]).get(connection.id)


def active_run(connection: Connection) -> SyncRun | None:
    """The store's latest unfinished run, if any."""
    return db.session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == connection.id, SyncRun.status.in_(SyncRun.ACTIVE))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def unbind(workspace_id: int, connection_id: int) -> Connection:
    """Release the store (Y1); refused while a sync of it runs. Orders stay."""
    conn = get(workspace_id, connection_id)
    if not conn.is_bound:
        return conn
    run = active_run(conn)
    if run is not None and run.trigger == "migration":
        raise MigrationRunning(
            f"store #{conn.id} is being migrated (sync run #{run.id}); "
            "wait for the migration to finish before unbinding"
        )
    if run is not None:
        raise Conflict(
            f"store #{conn.id} has a sync in progress (sync run #{run.id}); "
            "wait for it to finish before unbinding"
        )
    conn.bound_key = None
    conn.status = "unbound"
    conn.unbound_at = utcnow()
    conn.sync_mode = "disabled"
    db.session.commit()
    log.info("unbound connection %s", conn.id)
    return conn


def update_sync_settings(
    workspace_id: int, connection_id: int, mode: str, interval_minutes: Any = None
) -> Connection:
    """Y5: manual, auto every N minutes (Connection.INTERVAL_MIN..INTERVAL_MAX), or disabled."""
    conn = get(workspace_id, connection_id)
    if not conn.is_bound:
        raise Conflict(f"store {conn.id} is unbound: bind it again before changing its sync")
    interval = check_sync_choice(mode, interval_minutes, conn.platform)
    conn.sync_mode = mode
    if interval is not None:
        conn.sync_interval_minutes = interval
    db.session.commit()
    return conn


def interval_bounds(platform: str | None) -> tuple[int, int, int]:
    """(fewest, default, most) minutes between a store's automatic syncs: the hub's (Y5),
    or what the platform's connector declares (W7: a mini shop's orders every 5 minutes)."""
    low, default = Connection.INTERVAL_MIN, Connection.INTERVAL_DEFAULT
    try:
        cls = registry.get(platform) if platform else None
    except registry.UnknownPlatform:
        cls = None
    if cls is not None:
        low = cls.sync_interval_min or low
        default = cls.sync_interval_default or default
    return low, default, Connection.INTERVAL_MAX


def sync_interval(conn: Connection) -> timedelta:
    """The time between the store's automatic syncs, kept within its platform's bounds."""
    low, default, high = interval_bounds(conn.platform)
    minutes = conn.sync_interval_minutes or default
    return timedelta(minutes=max(low, min(high, minutes)))


def check_sync_choice(
    mode: Any, interval_minutes: Any = None, platform: str | None = None
) -> int | None:
    """A sync mode of SYNC_MODES and, for "auto", its interval in minutes (checked against
    the platform's bounds)."""
    if mode not in SYNC_MODES:
        raise Refused(
            N_("Sync: choose %(modes)s (“%(mode)s” is not one of them)."),
            field="mode", modes=", ".join(SYNC_MODES), mode=mode,
        )  # fmt: skip
    return _check_interval(interval_minutes, required=mode == "auto", platform=platform)


def _check_interval(value: Any, *, required: bool, platform: str | None = None) -> int | None:
    low, _default, high = interval_bounds(platform)
    if value is None or value == "":
        if required:
            raise Refused(
                N_("Sync interval (minutes): enter how often the store syncs automatically, "
                   "from %(low)s to %(high)s minutes."),
                field="interval_minutes", low=low, high=high,
            )  # fmt: skip
        return None
    return parsing.whole_number(value, "interval_minutes", low=low, high=high)


def list_connections(workspace_id: int, platform: str | None = None) -> list[dict[str, Any]]:
    """The store list (Y2), bound stores first, each with its latest run's status."""
    query = select(Connection).where(Connection.workspace_id == workspace_id)
    if platform:
        query = query.where(Connection.platform == platform)
    conns = db.session.scalars(query.order_by(Connection.unbound_at.isnot(None), Connection.id))
    conns = list(conns)
    runs = _latest_runs([c.id for c in conns])
    return [summary(c, runs.get(c.id)) for c in conns]


def _latest_runs(connection_ids: list[int]) -> dict[int, SyncRun]:
    if not connection_ids:
        return {}
    latest = (
        select(db.func.max(SyncRun.id))
        .where(SyncRun.connection_id.in_(connection_ids))
        .group_by(SyncRun.connection_id)
    )
    runs = db.session.scalars(select(SyncRun).where(SyncRun.id.in_(latest)))
    return {r.connection_id: r for r in runs}


def summary(conn: Connection, run: SyncRun | None = None) -> dict[str, Any]:
    """The Y2 columns of one store. An unbound store shows as such (22.5): its sync status is
    "unbound" and it has no credential expiry, whatever its last run and its old token said."""
    bound = conn.is_bound
    return {
        "id": conn.id,
        "platform": conn.platform,
        "store_id": conn.external_id,
        "store_name": conn.name,
        "status": conn.status,
        "bound": conn.is_bound,
        "api_calls": conn.api_calls or 0,
        "sync_status": ("unbound" if not bound else run.status if run else None),
        "sync_mode": conn.sync_mode,
        "sync_interval_minutes": conn.sync_interval_minutes,
        "credential_expires_at": conn.credential_expires_at if bound else None,
        "last_sync_at": conn.last_sync_at,
        "last_success_at": conn.last_success_at,
        "last_error": conn.last_error,
        "warnings": list(conn.warnings or []),
        "granted_scopes": list(conn.granted or []),
        "created_at": conn.created_at,
        "unbound_at": conn.unbound_at,
    }


def _secret_fields(conn: Connection) -> set[str]:
    try:
        return registry.get(conn.platform).secret_fields()
    except registry.UnknownPlatform:
        return set(crypto.decrypt_json(conn.credentials_enc))


def masked_settings(connection: Connection) -> dict[str, Any]:
    """Settings with every secret replaced by ``crypto.MASK``."""
    return crypto.mask(connection_config(connection), _secret_fields(connection))


def update_credentials(
    workspace_id: int, connection_id: int, values: Mapping[str, Any]
) -> Connection:
    """Change settings/credentials; a value equal to MASK keeps the stored secret."""
    conn = get(workspace_id, connection_id)
    if not conn.is_bound:
        raise Conflict(f"store #{conn.id} is unbound: bind the store again instead")
    cls = connector_class(conn.platform)
    # Only the schema's own fields: a token cache the connector saved is dropped, and the
    # connector takes a fresh token with the new credentials.
    fields = set(cls.settings_schema().fields)
    old = {k: v for k, v in connection_config(conn).items() if k in fields}
    config = validate_settings(cls, {**old, **crypto.unmask(dict(values), old)})
    info = check_store(conn.platform, config, conn.id)
    _reclaim(conn, info)
    kept = {k: v for k, v in (conn.settings or {}).items() if k in HUB_SETTINGS}
    plain, secret = _split(cls, config)
    conn.settings = {**plain, **kept}  # the hub's own (migration rules, templates) stay
    conn.credentials_enc = crypto.encrypt_json({**secret, **info.credentials})
    conn.credential_expires_at = info.expires_at
    conn.warnings = list(info.warnings) or None
    conn.granted = list(info.granted) or None
    if conn.status == "error":
        conn.status = "active"
    db.session.commit()
    return conn


def _reclaim(conn: Connection, info: BindInfo) -> None:
    """New credentials must prove the same store; on another API base the claim moves."""
    if str(info.external_id) != conn.external_id:
        raise ValidationFailed(
            f"these credentials belong to store {info.external_id}, "
            f"not to the bound store {conn.external_id}",
            field="credentials",
        )
    key = claim_key(info)
    if key != conn.bound_key:
        _refuse_if_bound(conn.workspace_id, conn.platform, conn.external_id, key)
        conn.bound_key = key
