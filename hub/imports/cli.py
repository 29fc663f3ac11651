"""``hub import <kind> FILE... [--group G --tag T --dry-run]`` and ``hub import template <kind>``,
one kind per registered file connector (customers, sobot-orders, tmall-orders as shipped).
The import runs here (no worker needed) unless --queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from hub import config, registry
from hub.cli_support import CommandFailed, emit, hub_command, warn_without_worker
from hub.core import zones
from hub.extensions import db
from hub.imports import service


def registered_kinds(ctx: click.Context) -> list[str]:
    """The import kinds of the app's registry (the app the command runs with). Without the
    app's secrets, those of the configured connectors (so that ``--help`` still lists them)."""
    try:
        app: Flask = current_app or ctx.ensure_object(ScriptInfo).load_app()
    except config.ConfigError:
        paths = config.from_environment().get("CONNECTORS", config.DEFAULT_CONNECTORS)
        return sorted(service.file_kinds(registry.load(paths).values()))
    return sorted(service.kinds(app))


class ImportGroup(click.Group):
    """``hub import``: its own commands plus one per registered import kind."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *registered_kinds(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in registered_kinds(ctx):
            command = _kind_command(cmd_name)
        return command


class KindChoice(click.ParamType):
    """One of the registered import kinds."""

    name = "kind"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "{" + "|".join(registered_kinds(ctx)) + "}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        known = registered_kinds(ctx or click.get_current_context())
        if value not in known:
            self.fail(f"{value!r} is not one of {', '.join(map(repr, known))}.", param, ctx)
        return str(value)


@click.group("import", cls=ImportGroup)
def import_group() -> None:
    """Import spreadsheets: customers, Sobot orders, Tmall order reports."""


def _kind_command(kind: str) -> click.Command:
    @click.command(kind, help=f"Import {kind} from FILE(s) (.xlsx, .csv or .txt).")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--workspace", "slug", required=True, help="Workspace slug.")
    @click.option("--group", default=None, help="Static group to add customers to (created).")
    @click.option("--tag", "tags", multiple=True, help="Tag every imported customer (repeatable).")
    @click.option("--original-source", default=None, help="Original source of new customers.")
    @click.option("--campaign", default=None, help="Original campaign of new customers.")
    @click.option("--policy", type=click.Choice(service.POLICIES), default="new_only",
                  help="Apply original source to new customers only, or to all.")  # fmt: skip
    @click.option("--mapping", default=None, help="Column mapping: JSON or a .json file.")
    @click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
    @click.option("--queue", "use_queue", is_flag=True, help="Queue for a worker; don't wait.")
    @hub_command()
    def command(files: tuple[str, ...], slug: str, **opts: Any) -> None:
        _run(kind, files, slug, **opts)

    return command


def _run(kind: str, files: tuple[str, ...], slug: str, **opts: Any) -> None:
    from hub.cli import _workspace

    ws = _workspace(slug)
    settings = {
        "group": opts["group"],
        "tags": list(opts["tags"]),
        "original_source": opts["original_source"],
        "campaign": opts["campaign"],
        "original_source_policy": opts["policy"],
        "mapping": _mapping(opts["mapping"]),
    }
    uploads = [(Path(f).name, Path(f)) for f in files]
    run = service.start(ws.id, kind, uploads, settings=settings, dry_run=opts["dry_run"],
                        created_by="cli", enqueue=opts["use_queue"])  # fmt: skip
    data = run.to_dict()
    data["failure_file"] = run.failure_path
    if run.status == "failed":
        raise CommandFailed(f"import {run.id} failed: {run.error}", "import_failed", data)
    if run.status == "queued":
        from hub.jobs.queues import IMPORTS

        alternative = "or import in this command: run it again without --queue"
        data["worker_running"] = warn_without_worker(IMPORTS, alternative)
    emit(data, _summary(run))


def _summary(run: Any) -> str:
    if run.status == "queued":
        return f"Import {run.id} queued (job {run.job_id})."
    prefix = "Dry run: would have " if run.dry_run else f"Import {run.id}: "
    text = (f"{prefix}created {run.created}, updated {run.updated}, skipped {run.skipped}, "
            f"failed {run.failed}.")  # fmt: skip
    if run.failure_path:
        text += f"\nFailed rows with reasons: {run.failure_path}"
    return text


def _mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    text = Path(raw).read_text("utf-8") if raw.endswith(".json") and Path(raw).exists() else raw
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandFailed(
            f'--mapping: not valid JSON ({exc}); give an object such as {{"Phone": "mobile"}}',
            "invalid_mapping",
        ) from None
    if not isinstance(value, dict):
        raise CommandFailed(
            '--mapping: give an object of column → field, such as {"Phone": "mobile"}',
            "invalid_mapping",
        )
    return value


@import_group.command("template")
@click.argument("kind", type=KindChoice())
@click.option("--out", "out", default=None, help="Where to write (.xlsx or .csv).")
@hub_command()
def template(kind: str, out: str | None) -> None:
    """Write the template of KIND (required columns marked *)."""
    headers, _examples = service.connector_for(kind).template()
    path = service.template(kind, Path(out or f"{kind}-template.xlsx"))
    emit({"kind": kind, "path": str(path), "headers": headers}, f"Template written to {path}")


@import_group.command("history")
@click.option("--workspace", "slug", required=True, help="Workspace slug.")
@click.option("--limit", default=20, show_default=True)
@hub_command()
def history(slug: str, limit: int) -> None:
    """List imports with who, when, files and failure files."""
    from hub.cli import _workspace

    ws = _workspace(slug)
    runs = service.history(ws.id, limit=limit)
    tz = zones.zone(ws.time_zone)
    lines = [f"{r.id}\t{r.kind}\t{r.status}\t{zones.labelled(r.created_at, tz)}\t{r.created_by}\t"
             f"+{r.created} ~{r.updated} ={r.skipped} !{r.failed}\t{r.failure_path or ''}"
             for r in runs]  # fmt: skip
    emit({"items": [r.to_dict() for r in runs]}, "\n".join(lines) or "No imports yet.")
    db.session.remove()
