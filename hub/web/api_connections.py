"""Connections (bind, settings, credentials, sync now, unbind) and sync runs."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from hub.core.errors import QueueUnavailable, ValidationFailed
from hub.extensions import db
from hub.models import Connection, SyncRun
from hub.queries import syncs as q_syncs
from hub.services import connections, migration
from hub.web import api_serial as ser
from hub.web.api_base import bp, json_body, paged, workspace_id
from hub.web.push_urls import push_url, takes_pushes

TRUE = {"1", "true", "yes", "on"}


def _connection(conn: Connection) -> dict[str, Any]:
    body = ser.plain(connections.summary(conn, connections.latest_run(conn)))
    body["settings"] = connections.masked_settings(conn) if conn.is_bound else {}
    body["push_url"] = push_url(conn) if takes_pushes(conn) else None
    if migration.can_migrate(conn):
        body["migration"] = migration.effective_rules(conn.settings)
        body["migration_run"] = _migration_run(conn)
    return body


def _migration_run(conn: Connection) -> dict[str, Any] | None:
    run = migration.migration_run(conn)
    return ser.sync_run(run) if run is not None else None


@bp.get("/connections")
def list_connections() -> Any:
    rows = connections.list_connections(workspace_id(), request.args.get("platform"))
    return jsonify(items=[ser.plain(r) for r in rows], total=len(rows))


@bp.post("/connections")
def bind() -> Any:
    data = json_body()
    platform = data.get("platform")
    if not isinstance(platform, str) or not platform:
        raise ValidationFailed(
            "Platform: say which platform the store is on, such as “youzan”", field="platform"
        )
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise ValidationFailed(
            "Store settings: send them as an object of setting → value", field="settings"
        )
    first_sync = data.get("first_sync", True)
    if not isinstance(first_sync, bool):
        raise ValidationFailed("First sync: send true or false", field="first_sync")
    mode = data.get("sync_mode", "auto")
    interval = data.get("interval_minutes")  # auto without one: the platform's default
    conn = connections.bind(workspace_id(), platform, settings, name=data.get("name"),
                            sync_mode=mode, interval_minutes=interval)  # fmt: skip
    body = _connection(conn)
    body["first_sync_run"] = _first_sync(conn) if first_sync else None
    return jsonify(body), 201


def _first_sync(conn: Connection) -> dict[str, Any]:
    """The first sync of a store just bound: queued, or kept until the queue is back."""
    from hub.sync import service

    try:
        run = service.request_sync(conn.workspace_id, conn.id, trigger="bind")
    except QueueUnavailable as exc:
        run = db.session.get(SyncRun, exc.run_ids[0])
    return ser.sync_run(run)


@bp.get("/connections/<int:connection_id>")
def connection(connection_id: int) -> Any:
    return jsonify(_connection(connections.get(workspace_id(), connection_id)))


@bp.patch("/connections/<int:connection_id>/settings")
def sync_settings(connection_id: int) -> Any:
    data = json_body()
    mode = data.get("mode") or data.get("sync_mode")
    if not mode and "migration" not in data:
        raise ValidationFailed("Sync: choose manual, auto or disabled", field="mode")
    interval = data.get("interval_minutes", data.get("sync_interval_minutes"))
    if mode:
        platform = connections.get(workspace_id(), connection_id).platform
        connections.check_sync_choice(mode, interval, platform)
    if "migration" in data:  # W2: checked (and refused while migrating) before anything changes
        conn = migration.update_rules(workspace_id(), connection_id, data["migration"])
    if mode:
        conn = connections.update_sync_settings(workspace_id(), connection_id, mode, interval)
    return jsonify(_connection(conn))


@bp.post("/connections/<int:connection_id>/migrate")
def migrate(connection_id: int) -> Any:
    run = migration.request_migration(workspace_id(), connection_id)
    return jsonify(ser.sync_run(run)), 202


@bp.patch("/connections/<int:connection_id>/credentials")
def credentials(connection_id: int) -> Any:
    values = json_body().get("settings")
    if not isinstance(values, dict) or not values:
        raise ValidationFailed(
            "Credentials: send the settings to change as an object of setting → value",
            field="settings",
        )
    conn = connections.update_credentials(workspace_id(), connection_id, values)
    return jsonify(_connection(conn))


@bp.post("/connections/<int:connection_id>/sync")
def sync_one(connection_id: int) -> Any:
    from hub.sync import service

    full = request.args.get("full", "").lower() in TRUE
    run = service.request_sync(workspace_id(), connection_id, full=full, trigger="api")
    return jsonify(ser.sync_run(run)), 202


@bp.post("/connections/sync")
def sync_all() -> Any:
    from hub.sync import service

    runs = service.request_sync_all(workspace_id(), trigger="api")
    return jsonify(items=[ser.sync_run(r) for r in runs], total=len(runs)), 202


@bp.delete("/connections/<int:connection_id>")
def unbind(connection_id: int) -> Any:
    return jsonify(_connection(connections.unbind(workspace_id(), connection_id)))


@bp.get("/syncs")
def syncs() -> Any:
    filters = q_syncs.RunFilter.from_args(request.args)
    return paged(q_syncs.runs(workspace_id(), filters), ser.sync_run)


@bp.get("/syncs/<int:run_id>")
def sync(run_id: int) -> Any:
    return jsonify(ser.sync_run(q_syncs.get_run(workspace_id(), run_id)))
