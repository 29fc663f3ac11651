"""Issue 22.6: every analysis notebook runs on a workspace without orders (a fresh one): empty
tables and charts, never an exception. The notebooks' code cells run here in-process (as
``hub report`` runs them in a kernel, which test_report does on a full shop)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from hub.analytics.report import NOTEBOOKS, available
from hub.extensions import db


def _code(name: str) -> list[str]:
    cells = json.loads(available()[name].read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_runs_on_a_workspace_without_orders(app, workspace, name, tmp_path):
    scope = {"__name__": f"notebook_{name}"}
    code = _code(name)
    exec(code[0], scope)  # noqa: S102 - the parameters cell, then the values hub report would inject
    url = db.engine.url.render_as_string(hide_password=False)
    scope.update(workspace=workspace.slug, database_url=url, export_dir=str(tmp_path))
    with contextlib.redirect_stdout(io.StringIO()):
        for n, cell in enumerate(code[1:], 2):
            try:
                exec(cell, scope)  # noqa: S102 - the notebook's own code, as its kernel runs it
            except Exception as exc:  # pragma: no cover - the failure names the cell
                raise AssertionError(f"{name}: code cell {n} failed: {exc!r}\n{cell}") from exc
