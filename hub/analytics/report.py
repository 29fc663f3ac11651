"""Execute the analysis notebooks headless and write self-contained HTML (plotly.js inlined by
the notebooks themselves; nbconvert's CDN scripts are left out, so nothing loads from the
network).

Parameters reach a notebook papermill-style: a cell holding the values is inserted right after
the cell tagged ``parameters``. The database URL is never written into a notebook: it reaches the
kernel through its environment (``HUB_DATABASE_URL``), so a password cannot leak into a report.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from hub.analytics import cache

NOTEBOOKS = ("orders", "returns", "repurchase", "basket", "rfm", "funnel", "path")
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]+src=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)


class ReportError(RuntimeError):
    """A notebook is unknown or failed; the message names it and the failing cell."""


@dataclass(slots=True)
class ReportResult:
    name: str
    html: Path
    seconds: float
    figures: int


def notebook_dir() -> Path:
    """``HUB_NOTEBOOK_DIR``, else the project's notebooks/ folder."""
    configured = os.environ.get("HUB_NOTEBOOK_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "notebooks"


def available(directory: Path | None = None) -> dict[str, Path]:
    """Notebook name -> path, for every .ipynb in the directory."""
    folder = directory or notebook_dir()
    return {p.stem: p for p in sorted(folder.glob("*.ipynb"))}


def inject(book: nbformat.NotebookNode, params: dict[str, Any]) -> None:
    """Insert ``name = value`` lines after the cell tagged ``parameters`` (else first)."""
    if not params:
        return
    lines = ["# Injected by hub report"] + [f"{k} = {v!r}" for k, v in params.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    tagged = [i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", [])]
    book.cells.insert(tagged[0] + 1 if tagged else 0, cell)


def to_html(book: nbformat.NotebookNode, hide_code: bool = False) -> str:
    """One HTML page with no script loaded from the network."""
    exporter = HTMLExporter(template_name="lab", exclude_input=hide_code)
    body, _ = exporter.from_notebook_node(book)
    return _EXTERNAL_SCRIPT.sub("", body)


def run_notebook(
    path: Path,
    out_dir: Path,
    params: dict[str, Any],
    env: dict[str, str],
    timeout: int = 600,
    hide_code: bool = False,
) -> ReportResult:
    """Execute one notebook in a fresh kernel (this Python) and write ``<name>.html``."""
    began = time.perf_counter()
    book = nbformat.read(path, as_version=4)
    inject(book, params)
    with tempfile.TemporaryDirectory(prefix="hub-kernel-") as sockets:
        # IPC sockets in a private directory: the kernel is not reachable over TCP.
        km = KernelManager(kernel_name="python3", transport="ipc")
        km.ip = str(Path(sockets) / "kernel")
        client = NotebookClient(
            book, km=km, timeout=timeout, resources={"metadata": {"path": str(out_dir)}}
        )
        try:
            client.execute(env=env)
        except Exception as exc:  # nbclient raises CellExecutionError with the traceback
            raise ReportError(f"notebook {path.stem} failed: {_first_line(exc)}") from exc
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    html = to_html(book, hide_code)
    target = out_dir / f"{path.stem}.html"
    target.write_text(html, encoding="utf-8")
    figures = html.count("Plotly.newPlot(")
    return ReportResult(path.stem, target, time.perf_counter() - began, figures)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    errors = [line for line in text if "Error" in line]
    return (errors[-1] if errors else text[-1] if text else type(exc).__name__)[:300]


def run_report(
    names: Sequence[str],
    out_dir: Path,
    params: dict[str, Any],
    database_url: str | None = None,
    jobs: int = 2,
    directory: Path | None = None,
    hide_code: bool = False,
) -> list[ReportResult]:
    """Execute the named notebooks (all when empty), ``jobs`` kernels at a time."""
    books = available(directory)
    chosen = list(names) or [n for n in NOTEBOOKS if n in books] + sorted(
        set(books) - set(NOTEBOOKS)
    )
    unknown = [n for n in chosen if n not in books]
    if unknown:
        raise ReportError(f"unknown notebook(s) {', '.join(unknown)}; known: {', '.join(books)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hub-report-") as shared:
        env = _kernel_env(database_url)
        env[cache.ENV] = shared
        prefetch(shared, params, database_url)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [
                pool.submit(run_notebook, books[n], out_dir, params, env, hide_code=hide_code)
                for n in chosen
            ]
            return [f.result() for f in futures]


def prefetch(directory: str, params: dict[str, Any], database_url: str | None) -> None:
    """Read the orders, lines and events the notebooks share once, into the run's cache: two
    processes (orders then lines; events), as reading rows is bound by one core each."""
    from hub.analytics import loaders

    url = database_url or loaders.resolve_engine().url.render_as_string(hide_password=False)
    args = (params["workspace"], params.get("start"), params.get("end"), params.get("sources"))
    args += (params.get("tz"),)  # the notebooks read in the workspace's zone: the same keys
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        jobs = [pool.submit(_fill, kinds, directory, args, url) for kinds in PREFETCH]
        for job in jobs:
            job.result()


PREFETCH = (("load_transactions", "load_lines"), ("load_events",))


def _fill(kinds: Sequence[str], directory: str, args: tuple, url: str) -> None:
    """In a child process: run the loaders so they write their frames to the cache."""
    os.environ[cache.ENV] = directory
    from hub.analytics import loaders

    engine = loaders.resolve_engine(url)
    try:
        *bounds, tz = args
        tz = tz or loaders.workspace_zone(bounds[0], engine=engine)
        for kind in kinds:
            getattr(loaders, kind)(*bounds, engine=engine, tz=tz)
    finally:
        engine.dispose()


def _kernel_env(database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JPY_")}
    if database_url:
        env["HUB_DATABASE_URL"] = database_url
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def parameters(
    workspace: str | int,
    start: str | None,
    end: str | None,
    sources: Iterable[str] | None,
    tz: str | None = None,
) -> dict[str, Any]:
    """The shared parameters every notebook declares (``tz`` None: the workspace's zone)."""
    return {
        "workspace": workspace,
        "start": start,
        "end": end,
        "sources": list(sources) if sources else None,
        "tz": tz,
    }
