"""Issue 22.6: a workspace with no orders shows one empty state saying what to do (bind a
store, import) instead of charts; a range without orders says so once instead of seven empty
axes; a chart with nothing to draw (no checkouts) shows a plain message in its place."""

from __future__ import annotations

import json
import re

from tests.support.ui import browser, login, make_user, seed


def _figures(html: str) -> dict:
    found = re.search(r'id="dashboard-figures">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else {}


def _signed_in(app, workspace):
    make_user(workspace, "analyst@acme.test", role="analyst")
    user = browser(app)
    assert login(user, "analyst@acme.test").status_code == 302
    return user


def test_a_workspace_without_orders_says_what_to_do(app, workspace):
    html = _signed_in(app, workspace).get("/dashboard").get_data(as_text=True)
    assert 'data-test="dashboard-empty"' in html
    assert 'href="/stores"' in html and 'href="/imports"' in html
    assert _figures(html) == {} and 'class="card chart"' not in html
    assert "plotly.min.js" not in html  # nothing to draw, nothing to load


def test_a_range_without_orders_says_so_once(app, workspace, tmp_path):
    seed(workspace, tmp_path)  # orders in January 2026
    html = _signed_in(app, workspace).get("/dashboard?start=2020-01-01&end=2020-01-31")
    text = html.get_data(as_text=True)
    assert 'data-test="range-empty"' in text
    assert _figures(text) == {} and 'class="card chart' not in text


def test_a_chart_with_nothing_to_draw_shows_a_message(app, workspace, tmp_path):
    seed(workspace, tmp_path)
    html = _signed_in(app, workspace).get("/dashboard?start=2025-12-01&end=2026-02-28")
    text = html.get_data(as_text=True)
    assert "checkouts" not in _figures(text) and "revenue" in _figures(text)
    assert 'data-empty="checkouts"' in text and "No abandoned checkout" in text
