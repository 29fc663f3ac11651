"""Stores (Y1–Y5, W1, W3): list per platform, bind from the connector's schema, settings,
credentials (masked), sync now / sync all, unbind with confirmation. Views call the services."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from hub import crypto, registry
from hub.core.errors import HubError, NotFound, QueueUnavailable, StoreApiFailed, ValidationFailed
from hub.models import SYNC_MODES, Connection
from hub.queries import syncs as q_syncs
from hub.web.admin.common import error_text, scoped_or_404
from hub.web.admin.schema_form import field_specs, read_form
from hub.web.auth import admin_required, workspace_id
from hub.web.i18n import _, ngettext_
from hub.web.push_urls import push_url, takes_pushes

bp = Blueprint("stores", __name__, url_prefix="/stores")


def _svc() -> Any:
    from hub.services import connections

    return connections


def _sync_svc() -> Any:
    from hub.sync import service

    return service


BINDABLE = frozenset({"pull", "push"})


def bindable() -> dict[str, Any]:
    """Connectors of stores (pulled or pushing); file-import connectors live under Imports."""
    return {p: c for p, c in registry.connectors().items() if c.capabilities & BINDABLE}


def _connector(platform: str) -> Any:
    cls = bindable().get(platform)
    if cls is None:
        abort(404)
    return cls


def _bound(connection_id: int) -> Connection:
    conn = scoped_or_404(Connection, connection_id)
    if not conn.is_bound:
        abort(404)
    return conn


def _flash_error(exc: Exception) -> None:
    text = error_text(exc) if isinstance(exc, HubError) else str(exc)
    flash(text or exc.__class__.__name__, "error")


@bp.get("")
@login_required
def index() -> Any:
    ws = workspace_id()
    platforms = bindable()
    groups: dict[str, list[dict[str, Any]]] = {p: [] for p in platforms}
    for row in _svc().list_connections(ws):  # stores of an unregistered platform still show
        groups.setdefault(row["platform"], []).append(row)
    return render_template("admin/stores.html", groups=groups, platforms=platforms)


@bp.route("/bind/<platform>", methods=["GET", "POST"])
@admin_required
def bind(platform: str) -> Any:
    cls = _connector(platform)
    schema = cls.settings_schema()
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    choice = _bind_choice(request.form if request.method == "POST" else None, platform)
    kept: dict[str, Any] = {}
    if request.method == "POST":
        kept = _kept_secrets(platform, request.form.get("kept_secrets"))
        values = crypto.unmask(read_form(schema, request.form), kept)
        try:
            conn = _svc().bind(workspace_id(), platform, values, sync_mode=choice["sync_mode"],
                               interval_minutes=choice["interval_minutes"])  # fmt: skip
        except ValidationFailed as exc:
            errors = {exc.field or "_": error_text(exc)}
            flash(_("Some fields need attention. Correct them and bind again."), "error")
        except StoreApiFailed as exc:
            errors = {exc.field or "_": error_text(exc)}
            _flash_error(exc)
        except HubError as exc:
            _flash_error(exc)
        else:
            for warning in conn.warnings or []:
                flash(_(warning), "info")
            if choice["first_sync"]:
                return _first_sync(conn)
            flash(_("Store %(name)s is bound. Run a first sync now.", name=conn.name), "success")
            return redirect(url_for("stores.detail", connection_id=conn.id))
    secrets = {k: v for k, v in values.items() if k in cls.secret_fields() and v}
    masked = {**values, **dict.fromkeys(secrets, crypto.MASK)}
    return render_template(
        "admin/store_bind.html", cls=cls, fields=field_specs(schema, masked), errors=errors,
        choice=choice, interval_low=_svc().interval_bounds(platform)[0],
        interval_high=Connection.INTERVAL_MAX,
        kept_secrets=_keep_secrets(platform, secrets),
    )  # fmt: skip


KEEP_SECRETS_SECONDS = 900


def _keep_secrets(platform: str, secrets: dict[str, Any]) -> str | None:
    """The secrets typed into a bind form that failed, for the form shown again: encrypted
    with the hub's key, for this user, workspace and platform, for KEEP_SECRETS_SECONDS. The
    page never holds them in clear: a secret field shows the mask, and sent back unchanged
    the mask takes the kept value, so nobody retypes a long secret after a typo elsewhere."""
    if not secrets:
        return None
    owner = {"user": current_user.get_id(), "workspace": workspace_id(), "platform": platform}
    return crypto.encrypt_json({**owner, "secrets": secrets}).decode()


def _kept_secrets(platform: str, token: str | None) -> dict[str, Any]:
    """The secrets ``_keep_secrets`` kept, if the token is this user's, fresh and intact."""
    if not token:
        return {}
    try:
        kept = crypto.decrypt_json(token.encode(), ttl=KEEP_SECRETS_SECONDS)
    except crypto.DecryptionError:
        return {}
    owner = {"user": current_user.get_id(), "workspace": workspace_id(), "platform": platform}
    if any(kept.get(k) != v for k, v in owner.items()):
        return {}
    secrets = kept.get("secrets")
    return secrets if isinstance(secrets, dict) else {}


def _bind_choice(form: Any, platform: str | None = None) -> dict[str, Any]:
    """How the store syncs once bound; by default: a first sync now, then automatic every
    Connection.INTERVAL_DEFAULT minutes, or the platform's own interval (W7)."""
    default = _svc().interval_bounds(platform)[1]
    if form is None:
        return {"sync_mode": "auto", "interval_minutes": default, "first_sync": True}
    mode = form.get("sync_mode", "auto")
    interval = (form.get("sync_interval_minutes") or "").strip() or None
    if interval is None and mode == "auto":
        interval = default
    return {
        "sync_mode": mode,
        "interval_minutes": interval,
        "first_sync": form.get("first_sync") == "1",
    }


def _first_sync(conn: Connection) -> Any:
    """Start the first sync of a store just bound and show it; the store's page if it cannot."""
    try:
        run = _sync_svc().request_sync(workspace_id(), conn.id, trigger="bind")
    except QueueUnavailable as exc:
        flash(_("Store %(name)s is bound. The queue is unavailable; its first sync will start "
                "when it is back.", name=conn.name), "error")  # fmt: skip
        return redirect(url_for("syncs.detail", run_id=exc.run_ids[0]))
    except HubError as exc:
        _flash_error(exc)
        return redirect(url_for("stores.detail", connection_id=conn.id))
    flash(_("Store %(name)s is bound and its first sync has started.", name=conn.name), "success")
    return redirect(url_for("syncs.detail", run_id=run.id))


@bp.get("/<int:connection_id>")
@login_required
def detail(connection_id: int) -> Any:
    conn = scoped_or_404(Connection, connection_id)
    cls = registry.connectors().get(conn.platform)
    specs = []
    if cls is not None and conn.is_bound:
        specs = field_specs(cls.settings_schema(), _svc().masked_settings(conn))
    return render_template(
        "admin/store_detail.html",
        conn=conn,
        cls=cls,
        fields=specs,
        runs=q_syncs.recent_runs(workspace_id(), conn.id, limit=10),
        modes=SYNC_MODES,
        push_url=push_url(conn) if takes_pushes(conn) else None,
        interval=_svc().interval_bounds(conn.platform),
        migration=_migration_view(conn),
    )


def _mig() -> Any:
    from hub.services import migration

    return migration


def _migration_view(conn: Connection) -> dict[str, Any] | None:
    """The migration card (W2, W3) of a store whose platform can be migrated."""
    if not (conn.is_bound and _mig().can_migrate(conn)):
        return None
    return {
        "rules": _mig().effective_rules(conn.settings),
        "templates": (conn.settings or {}).get("freight_templates") or [],
        "running": _mig().migration_run(conn),
    }


@bp.post("/<int:connection_id>/migration")
@admin_required
def migration_rules(connection_id: int) -> Any:
    """W2: the rules from the store page's form."""
    conn = _bound(connection_id)
    form = request.form
    freight: dict[str, str] | None = None
    if form.get("freight_mode") == "flat":
        freight = {"mode": "flat", "amount": form.get("freight_amount", "").strip()}
    elif form.get("freight_mode") == "template":
        freight = {"mode": "template", "template_id": form.get("freight_template", "").strip()}
    rules = {
        "product_status": form.get("product_status", ""),
        "freight": freight,
        "group": form.get("group_name", "").strip() if form.get("group") == "1" else None,
        "skip_migrated": form.get("skip_migrated") == "1",
    }
    try:
        _mig().update_rules(workspace_id(), conn.id, rules)
    except HubError as exc:
        _flash_error(exc)
    else:
        flash(_("Migration rules saved."), "success")
    return redirect(url_for("stores.detail", connection_id=conn.id))


@bp.post("/<int:connection_id>/migrate")
@admin_required
def migrate(connection_id: int) -> Any:
    """W3: start the migration and show its run."""
    conn = _bound(connection_id)
    try:
        run = _mig().request_migration(workspace_id(), conn.id)
    except QueueUnavailable as exc:
        flash(_("The queue is unavailable; the migration will start when it is back."), "error")
        return redirect(url_for("syncs.detail", run_id=exc.run_ids[0]))
    except HubError as exc:
        _flash_error(exc)
        return redirect(url_for("stores.detail", connection_id=conn.id))
    flash(_("Migration of %(name)s started.", name=conn.name), "success")
    return redirect(url_for("syncs.detail", run_id=run.id))


@bp.post("/<int:connection_id>/settings")
@admin_required
def sync_settings(connection_id: int) -> Any:
    conn = _bound(connection_id)
    mode = request.form.get("sync_mode", "")
    interval = request.form.get("sync_interval_minutes", "").strip() or None
    try:
        _svc().update_sync_settings(workspace_id(), conn.id, mode=mode, interval_minutes=interval)
    except HubError as exc:
        _flash_error(exc)
    else:
        flash(_("Sync settings saved."), "success")
    return redirect(url_for("stores.detail", connection_id=conn.id))


@bp.post("/<int:connection_id>/credentials")
@admin_required
def credentials(connection_id: int) -> Any:
    conn = _bound(connection_id)
    cls = _connector(conn.platform)
    values = read_form(cls.settings_schema(), request.form)
    try:
        _svc().update_credentials(workspace_id(), conn.id, values)
        flash(_("Credentials saved and checked with the platform."), "success")
    except HubError as exc:
        _flash_error(exc)
    return redirect(url_for("stores.detail", connection_id=conn.id))


@bp.post("/<int:connection_id>/sync")
@admin_required
def sync(connection_id: int) -> Any:
    conn = _bound(connection_id)
    full = request.form.get("full") == "1"
    try:
        run = _sync_svc().request_sync(workspace_id(), conn.id, full=full, trigger="manual")
    except QueueUnavailable as exc:
        flash(_("The queue is unavailable; the sync will start when it is back."), "error")
        return redirect(url_for("syncs.detail", run_id=exc.run_ids[0]))
    except HubError as exc:
        _flash_error(exc)
        return redirect(url_for("stores.detail", connection_id=conn.id))
    flash(_("Sync of %(name)s queued.", name=conn.name), "success")
    return redirect(url_for("syncs.detail", run_id=run.id))


@bp.post("/sync-all")
@admin_required
def sync_all() -> Any:
    try:
        runs = _sync_svc().request_sync_all(workspace_id())
    except QueueUnavailable:
        flash(_("The queue is unavailable; the syncs will start when it is back."), "error")
    except HubError as exc:
        _flash_error(exc)
    else:
        flash(ngettext_("%(num)s sync queued.", "%(num)s syncs queued.", len(runs)), "success")
    return redirect(url_for("syncs.index"))


@bp.route("/<int:connection_id>/unbind", methods=["GET", "POST"])
@admin_required
def unbind(connection_id: int) -> Any:
    conn = _bound(connection_id)
    if request.method == "GET":
        return render_template("admin/store_unbind.html", conn=conn)
    if request.form.get("confirm_name", "").strip() != conn.name:
        flash(_("Type the store name exactly to confirm the unbind."), "error")
        return redirect(url_for("stores.unbind", connection_id=conn.id))
    try:
        _svc().unbind(workspace_id(), conn.id)
    except NotFound:
        abort(404)
    except HubError as exc:
        _flash_error(exc)
        return redirect(url_for("stores.detail", connection_id=conn.id))
    flash(_("Store %(name)s is unbound. Its orders stay in the hub.", name=conn.name), "success")
    return redirect(url_for("stores.index"))
