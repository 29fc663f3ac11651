"""``hub report``: every notebook executed on a generated shop in the test database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hub.analytics.cli import report
from hub.analytics.report import NOTEBOOKS, available
from hub.extensions import db
from hub.models import Order
from tests.support.sample_shop import load_sample_shop

# Figures each notebook draws (a Plotly.newPlot call per figure).
FIGURES = {
    "orders": 7,
    "returns": 4,
    "repurchase": 3,
    "basket": 3,
    "rfm": 4,
    "funnel": 3,
    "path": 2,
}


@pytest.fixture
def shop(app, workspace):
    load_sample_shop(db.session, workspace.id, orders=400, customers=120, seed=3)
    return workspace


def test_a4_every_analysis_has_a_notebook_with_a_parameters_cell() -> None:
    books = available()
    assert set(NOTEBOOKS) <= set(books)
    for name in NOTEBOOKS:
        cells = json.loads(books[name].read_text())["cells"]
        first_code = next(c for c in cells if c["cell_type"] == "code")
        assert "parameters" in first_code["metadata"]["tags"], name
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        imports = set(re.findall(r"^\s*(?:import|from)\s+([\w.]+)", code, re.M))
        assert imports == {"hub.analytics"}, (name, imports)


@pytest.mark.slow
def test_a4_hub_report_runs_every_notebook_to_self_contained_html(
    shop, runner, tmp_path: Path
) -> None:
    out, exported = tmp_path / "html", tmp_path / "csv"
    result = runner.invoke(
        report, ["--out", str(out), "--workspace", "acme", "--export", str(exported), "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output.strip().splitlines()[-1])["reports"]
    assert [r["name"] for r in rows] == list(NOTEBOOKS)
    for name, expected in FIGURES.items():
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert html.count("Plotly.newPlot(") == expected, name
        assert "Traceback" not in html, name
        assert not re.search(r"<script[^>]+src=\"https?://", html), name  # nothing from the net
        assert "plotly.js v" in html, name  # the bundle itself is inlined
    assert (exported / "rfm_scores.csv").read_text().count("\n") > 50
    assert (exported / "pair_rules.csv").exists()


@pytest.mark.slow
def test_a4_report_parameters_filter_the_data(shop, runner, tmp_path: Path) -> None:
    youzan = db.session.query(Order).filter_by(workspace_id=shop.id, source="youzan").count()
    result = runner.invoke(
        report, ["orders", "--out", str(tmp_path), "--workspace", "acme", "--source", "youzan"]
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "orders.html").read_text(encoding="utf-8")
    assert f"{youzan} orders," in html
    assert not (tmp_path / "returns.html").exists()


def test_a4_report_unknown_notebook_fails_with_its_name(shop, runner, tmp_path: Path) -> None:
    result = runner.invoke(report, ["nosuch", "--out", str(tmp_path), "--workspace", "acme"])
    assert result.exit_code == 1
    assert "unknown notebook(s) nosuch" in result.output
