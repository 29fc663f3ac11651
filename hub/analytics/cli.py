"""``hub report [NAME...] --out DIR``: execute the analysis notebooks headless into HTML."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import text

from hub.cli_support import CommandFailed, emit, hub_command, say


def _default_workspace() -> str:
    """The only workspace's slug; with several, --workspace is required."""
    from hub.extensions import db

    slugs = db.session.execute(text("SELECT slug FROM workspaces ORDER BY id")).scalars().all()
    if len(slugs) != 1:
        raise CommandFailed("choose a workspace with --workspace SLUG", "usage")
    return slugs[0]


@click.command("report")
@click.argument("names", nargs=-1)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the HTML reports (created if missing).",
)
@click.option("--workspace", "workspace", default=None, help="Workspace slug or id.")
@click.option(
    "--start", default=None, help="First day included (YYYY-MM-DD, in the workspace's time zone)."
)
@click.option(
    "--end", default=None, help="First day excluded (YYYY-MM-DD, in the workspace's time zone)."
)
@click.option("--source", "sources", multiple=True, help="Only these sources (repeatable).")
@click.option(
    "--export",
    "export_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write every notebook's final tables as CSV here.",
)
@click.option("--jobs", default=2, show_default=True, help="Notebooks executed at once.")
@click.option("--hide-code", is_flag=True, help="Leave the code cells out of the HTML.")
@click.option(
    "--notebooks",
    "directory",
    default=None,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of notebooks (default: the project's notebooks/).",
)
@hub_command()
def report(
    names: tuple[str, ...],
    out_dir: Path,
    workspace: str | None,
    start: str | None,
    end: str | None,
    sources: tuple[str, ...],
    export_dir: Path | None,
    jobs: int,
    hide_code: bool,
    directory: Path | None,
) -> None:
    """Execute notebooks (all when no NAME is given) into self-contained HTML in --out."""
    from hub.analytics.report import ReportError, parameters, run_report

    params = parameters(workspace or _default_workspace(), start, end, sources)
    if export_dir is not None:
        params["export_dir"] = str(export_dir.resolve())
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    say(f"Running {', '.join(names) or 'every notebook'} for workspace {params['workspace']}")
    try:
        results = run_report(names, out_dir, params, url, jobs, directory, hide_code)
    except ReportError as exc:
        raise CommandFailed(str(exc), "report") from exc
    lines = [f"{r.name}: {r.html} ({r.figures} figures, {r.seconds:.1f} s)" for r in results]
    emit(
        {
            "reports": [
                {"name": r.name, "html": str(r.html), "figures": r.figures, "seconds": r.seconds}
                for r in results
            ]
        },
        "\n".join(lines),
    )
