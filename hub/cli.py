"""The ``hub`` command group: ``hub ...`` (console script) or ``flask --app wsgi hub ...``.

Other packages add commands with ONE line in ``PLUGIN_COMMANDS`` (name -> "module:attr"); they
are imported only when used or listed, never at import time of this module.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from hub.cli_support import (
    CommandFailed,
    emit,
    hub_command,
    json_mode,
    say,
    warn_without_worker,
)
from hub.core.errors import QueueUnavailable
from hub.extensions import db

if TYPE_CHECKING:
    from hub.models import SyncRun

PLUGIN_COMMANDS: dict[str, str] = {
    "demo": "hub.demo.cli:demo",
    "sandbox": "hub.demo.cli:sandbox",
    "import": "hub.imports.cli:import_group",
    "report": "hub.analytics.cli:report",
    "user": "hub.accounts_cli:user_group",
    "token": "hub.accounts_cli:token_group",
    "serve": "hub.serving:serve",
    "workspace": "hub.workspace_cli:workspace_group",
    "ship": "hub.shipping_cli:ship",
}


class HubGroup(click.Group):
    """A click group that also serves the lazily imported commands of PLUGIN_COMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *PLUGIN_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in PLUGIN_COMMANDS and cmd_name not in self.commands:
            module_name, _, attr = PLUGIN_COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module_name), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group("hub", cls=HubGroup)
def cli() -> None:
    """Tributary: one customer core for shops, spreadsheets and analyses."""


# --------------------------------------------------------------------------- database
@cli.group("db")
def db_group() -> None:
    """Database migrations (Alembic, via Flask-Migrate)."""


def _current_revision() -> str | None:
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@db_group.command("upgrade")
@click.argument("revision", default="head")
@hub_command()
def db_upgrade(revision: str) -> None:
    """Upgrade the database schema to REVISION (default: head)."""
    import flask_migrate

    flask_migrate.upgrade(revision=revision)
    rev = _current_revision()
    emit({"revision": rev}, f"Database at revision {rev}.")


@db_group.command("current")
@hub_command()
def db_current() -> None:
    """Print the database's current revision."""
    rev = _current_revision()
    emit({"revision": rev}, rev or "(empty database)")


@db_group.command("migrate")
@click.option("-m", "--message", default="schema", show_default=True)
@hub_command()
def db_migrate(message: str) -> None:
    """Autogenerate a new revision from the models (for developers)."""
    import flask_migrate

    script = flask_migrate.migrate(message=message)
    emit({"revision": getattr(script, "revision", None)}, "Revision written.")


# --------------------------------------------------------------------------- workspaces
def _workspace(slug: str, create: bool = False) -> Any:
    from hub.services.users import create_workspace, get_workspace

    ws = get_workspace(slug)
    if ws is None and create:
        ws = create_workspace(slug, slug)
    if ws is None:
        raise CommandFailed(
            f"workspace '{slug}' does not exist; create it with `hub workspace create {slug}` "
            "(`hub workspace list` shows the existing ones)",
            "not_found",
        )
    return ws


# --------------------------------------------------------------------------- worker
@cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--queues", default=None, help="Comma-separated queue names (default: all).")
@hub_command()
def worker(burst: bool, queues: str | None) -> None:
    """Run a worker on the hub's queues, with its maintenance (stale runs, auto-sync);
    it waits out Redis outages."""
    from hub.jobs.worker import run_worker

    kwargs: dict[str, Any] = {"burst": burst}
    if queues:
        kwargs["queues"] = tuple(q.strip() for q in queues.split(",") if q.strip())
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    run_worker(app, **kwargs)
    emit({"stopped": True, "burst": burst})


# --------------------------------------------------------------------------- stores
def _parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandFailed(f"--set {pair!r}: write it as key=value", "usage")
        settings[key.strip()] = value
    return settings


def _connection(connection_id: int) -> Any:
    from hub.core.errors import NotFound
    from hub.services.connections import get_any

    try:
        return get_any(connection_id)
    except NotFound as exc:
        raise CommandFailed(str(exc), "not_found") from None


@cli.command("connect")
@click.argument("platform")
@click.option("--workspace", "slug", required=True, help="Workspace slug.")
@click.option("--name", default=None, help="Display name of the store.")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="A bind setting.")
@click.option("--sync-mode", type=click.Choice(["auto", "manual"]), default="auto",
              show_default=True, help="Sync every --interval-minutes, or on request.")  # fmt: skip
@click.option("--interval-minutes", type=int, default=None,
              help="Minutes between automatic syncs (30–1440; default 60, or the platform's "
                   "own: 5 for a WeChat Mini Shop).")  # fmt: skip
@click.option("--first-sync/--no-first-sync", default=True, show_default=True,
              help="Queue the store's first sync once it is bound.")  # fmt: skip
@hub_command()
def connect(platform: str, slug: str, name: str | None, pairs: tuple[str, ...], sync_mode: str,
            interval_minutes: int, first_sync: bool) -> None:  # fmt: skip
    """Bind a store of PLATFORM to a workspace; prints the connection id. Its first sync is
    queued for a worker (`hub worker`) unless --no-first-sync."""
    from hub.services.connections import bind

    ws = _workspace(slug)
    interval = interval_minutes if sync_mode == "auto" else None
    conn = bind(ws.id, platform, _parse_settings(pairs), name=name, sync_mode=sync_mode,
                interval_minutes=interval)  # fmt: skip
    db.session.commit()
    if conn.granted:
        say(f"Granted: {', '.join(conn.granted)}.")
    for warning in conn.warnings or []:
        say(f"Warning: {warning}.")
    data = {"id": conn.id, "platform": conn.platform, "external_id": conn.external_id,
            "name": conn.name, "workspace": ws.slug, "sync_mode": conn.sync_mode,
            "sync_interval_minutes": conn.sync_interval_minutes,
            "warnings": list(conn.warnings or []), "granted_scopes": list(conn.granted or []),
            "first_sync_run_id": None}  # fmt: skip
    if first_sync:
        data.update(_first_sync(conn))
    emit(data, str(conn.id))


def _first_sync(conn: Any) -> dict[str, Any]:
    """Queue the first sync of a store just bound; say so when no worker will take it."""
    from hub.sync.service import request_sync

    try:
        run = request_sync(conn.workspace_id, conn.id, trigger="bind")
    except QueueUnavailable as exc:
        say(f"Warning: {exc}.")
        return {"first_sync_run_id": exc.run_ids[0], "worker_running": None}
    db.session.commit()
    say(f"First sync queued (sync run {run.id}).")
    hint = f"or run it in this command: `hub sync {conn.id} --inline`"
    return {"first_sync_run_id": run.id, "worker_running": warn_without_worker("sync", hint)}


@cli.command("unbind")
@click.argument("connection_id", type=int)
@hub_command()
def unbind(connection_id: int) -> None:
    """Unbind a store (its history stays)."""
    from hub.services.connections import unbind as unbind_store

    conn = _connection(connection_id)
    unbind_store(conn.workspace_id, connection_id)
    db.session.commit()
    emit({"id": connection_id, "status": "unbound"}, f"Connection {connection_id} unbound.")


@cli.command("sync")
@click.argument("connection_id", type=int)
@click.option("--full", is_flag=True, help="Re-read the whole initial window.")
@click.option("--wait", is_flag=True, help="Show progress and wait until the run ends.")
@click.option("--timeout", type=float, default=0, help="Give up waiting after N seconds.")
@click.option("--inline", is_flag=True, help="Run the sync in this command: no worker needed.")
@hub_command()
def sync(connection_id: int, full: bool, wait: bool, timeout: float, inline: bool) -> None:
    """Request a sync of a store (joins a running one). A worker (`hub worker`) runs it,
    or this command with --inline."""
    from hub.sync.service import request_sync

    conn = _connection(connection_id)
    run, data = _follow(
        lambda: request_sync(conn.workspace_id, connection_id, full=full, trigger="manual"),
        "sync", connection_id, wait=wait, timeout=timeout, inline=inline,
    )  # fmt: skip
    emit(data, f"Sync run {run.id}: {run.status}.")


def _follow(
    request: Callable[[], SyncRun],
    command: str,
    connection_id: int,
    *,
    wait: bool,
    timeout: float,
    inline: bool,
) -> tuple[SyncRun, dict[str, Any]]:
    """Request a run (``hub sync``, ``hub migrate``), then run it here (``inline``), wait for
    it, or warn when no worker will take it: the run and what the command prints. A failed
    run is a CommandFailed (code ``<command>_failed``)."""
    try:
        run = request()
    except QueueUnavailable as exc:
        if not inline:
            raise CommandFailed(str(exc), "queue_unavailable", {"run_id": exc.run_ids[0]}) from exc
        run = _run_row(exc.run_ids[0])
    db.session.commit()
    worker = None
    if inline:
        run = _run_inline(run, timeout)
    elif wait:
        run = _wait_for_run(run.id, timeout)
    else:
        hint = f"or run it in this command: `hub {command} {connection_id} --inline`"
        worker = warn_without_worker("sync", hint)
    data = _run_data(run)
    if command == "migrate":
        data["finished_at"] = run.finished_at
        data["migration"] = (run.counts or {}).get("migration")
    if run.status == "failed":
        what = "migration" if command == "migrate" else "sync"
        message = f"{what} run {run.id} failed ({run.error_class}): {run.error_message}"
        raise CommandFailed(message, f"{what}_failed", data)
    if worker is not None:
        data["worker_running"] = worker
    return run, data


@cli.command("migrate")
@click.argument("connection_id", type=int)
@click.option("--wait", is_flag=True, help="Show progress and wait until the migration ends.")
@click.option("--timeout", type=float, default=0, help="Give up waiting after N seconds.")
@click.option("--inline", is_flag=True, help="Run the migration in this command: no worker needed.")
@hub_command()
def migrate(connection_id: int, wait: bool, timeout: float, inline: bool) -> None:
    """Migrate a store (W3): all its products and orders, by its migration rules. A worker
    (`hub worker`) runs it, or this command with --inline."""
    from hub.services.migration import request_migration

    conn = _connection(connection_id)
    run, data = _follow(
        lambda: request_migration(conn.workspace_id, connection_id),
        "migrate", connection_id, wait=wait, timeout=timeout, inline=inline,
    )  # fmt: skip
    done = data["migration"]
    text = f"Migration run {run.id}: {run.status}."
    if done:
        text += f" {done['products']} products and {done['orders']} orders migrated."
    emit(data, text)


@cli.command("migration-rules")
@click.argument("connection_id", type=int)
@click.option("--product-status", type=click.Choice(["same", "warehouse", "on_sale"]),
              help="Status of products on arrival.")  # fmt: skip
@click.option("--freight-flat", metavar="AMOUNT", help="One flat freight fee, e.g. 8.00.")
@click.option("--freight-template", metavar="ID", help="The shop's freight template id.")
@click.option("--shop-freight", is_flag=True, help="Keep the shop's own freight.")
@click.option("--group", metavar="NAME", help="Put migrated products in this group.")
@click.option("--no-group", is_flag=True, help="Put migrated products in no group.")
@click.option("--skip-migrated/--overwrite", default=None,
              help="Leave products already in the hub untouched, or rewrite them.")  # fmt: skip
@hub_command()
def migration_rules(connection_id: int, product_status: str | None, freight_flat: str | None,
                    freight_template: str | None, shop_freight: bool, group: str | None,
                    no_group: bool, skip_migrated: bool | None) -> None:  # fmt: skip
    """Show a store's migration rules (W2), or change those given (refused while a migration
    of the store runs)."""
    from hub.services import migration

    conn = _connection(connection_id)
    changes: dict[str, Any] = {}
    if product_status:
        changes["product_status"] = product_status
    if sum(map(bool, (freight_flat, freight_template, shop_freight))) > 1:
        raise CommandFailed("choose one of --freight-flat, --freight-template, --shop-freight",
                            "usage")  # fmt: skip
    if freight_flat is not None:
        changes["freight"] = {"mode": "flat", "amount": freight_flat}
    elif freight_template is not None:
        changes["freight"] = {"mode": "template", "template_id": freight_template}
    elif shop_freight:
        changes["freight"] = None
    if group is not None and no_group:
        raise CommandFailed("choose --group NAME or --no-group", "usage")
    if group is not None or no_group:
        changes["group"] = None if no_group else group
    if skip_migrated is not None:
        changes["skip_migrated"] = skip_migrated
    if changes:
        conn = migration.update_rules(conn.workspace_id, conn.id, changes)
    elif not migration.can_migrate(conn):
        raise CommandFailed(f"store #{conn.id}'s platform cannot be migrated", "validation")
    rules = migration.effective_rules(conn.settings)
    text = ", ".join(f"{k}: {v}" for k, v in rules.items())
    emit({"connection_id": conn.id, "migration": rules}, f"Migration rules of #{conn.id}: {text}")


def _run_row(run_id: int) -> Any:
    from hub.models import SyncRun

    db.session.expire_all()
    return db.session.get(SyncRun, run_id)


def _run_inline(run: Any, timeout: float) -> Any:
    """Run the queued run in this process; a run already started elsewhere is waited for."""
    from hub.sync import engine
    from hub.sync.service import take_here

    job_id = take_here(run)
    if job_id is None:
        return _wait_for_run(run.id, timeout)
    engine.execute(run.id, job_id=job_id)
    return _run_row(run.id)


def _run_data(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.id, "connection_id": run.connection_id, "status": run.status,
        "progress_done": run.progress_done, "progress_total": run.progress_total,
        "counts": run.counts or {}, "error_class": run.error_class,
        "error_message": run.error_message,
    }  # fmt: skip


def _wait_for_run(run_id: int, timeout: float) -> Any:
    """Poll the SyncRun row until it finishes, feeding a progress bar (humans only). Fails
    once no worker has listened on the sync queue for NO_WORKER_GRACE seconds (it would never
    end). One look is not enough: a worker is briefly unlisted while its RQ loop starts again
    (Redis restarted empty, an unexpected error) and until its next heartbeat lists it again."""
    from hub.models import SyncRun

    deadline = time.monotonic() + timeout if timeout else None
    next_check = time.monotonic()
    absent_since: float | None = None  # when no worker was first seen, of the latest looks
    with ExitStack() as stack:
        bar, shown = None, 0
        while True:
            db.session.expire_all()
            run = db.session.get(SyncRun, run_id)
            if bar is None and run.progress_total and not json_mode():
                label = f"Sync run {run_id}"
                bar = stack.enter_context(click.progressbar(length=run.progress_total, label=label))
            if bar is not None and run.progress_done > shown:
                bar.update(run.progress_done - shown)
                shown = run.progress_done
            if run.status in SyncRun.FINISHED:
                return run
            if deadline and time.monotonic() > deadline:
                message = f"sync run {run_id} still {run.status} after {timeout:g}s"
                raise CommandFailed(message, "timeout")
            if time.monotonic() >= next_check:
                if _failed_by_its_job(run):  # the maintenance pass would fail it too
                    continue
                now = time.monotonic()
                if _worker_listening():
                    absent_since = None
                elif absent_since is None:
                    absent_since = now
                elif now - absent_since >= NO_WORKER_GRACE:
                    _no_worker(run)
                next_check = now + WORKER_CHECK_SECONDS
            time.sleep(0.3)


WORKER_CHECK_SECONDS = 2.0
NO_WORKER_GRACE = 8.0  # seconds without a listed worker before `--wait` gives up


def _failed_by_its_job(run: Any) -> bool:
    """Whether the run's job raised before the run ended, the run now failed for it
    (``hub.sync.service.fail_if_orphaned``); Redis down counts as no."""
    from hub.jobs.queues import REDIS_DOWN
    from hub.sync.service import fail_if_orphaned

    try:
        return fail_if_orphaned(run)
    except REDIS_DOWN:
        return False


def _worker_listening() -> bool:
    """Whether a worker listens on the sync queue; Redis down counts as yes: that is left to
    the run's own handling (it waits for the queue)."""
    from hub.jobs.queues import REDIS_DOWN, SYNC, workers_listening

    try:
        return workers_listening(SYNC) > 0
    except REDIS_DOWN:
        return True


def _no_worker(run: Any) -> NoReturn:
    """CommandFailed ("no_worker"): the run stays queued, and what to do about it."""
    from hub.jobs.queues import SYNC, no_worker_hint

    raise CommandFailed(
        f"sync run {run.id} is {run.status} but {no_worker_hint(SYNC)}; "
        f"or run it in this command: `hub sync {run.connection_id} --inline`",
        "no_worker",
        _run_data(run),
    )


# --------------------------------------------------------------------------- entry points
def init_app(app: Flask) -> None:
    """Register the group on the app: ``flask --app wsgi hub ...``."""
    app.cli.add_command(cli)


def _create_app() -> Flask:
    from hub.app_factory import build_app

    return build_app()


def main() -> None:
    """The ``hub`` console script: no FLASK_APP needed."""
    cli.main(prog_name="hub", obj=ScriptInfo(create_app=_create_app, set_debug_flag=False))
