"""The templates and static files stay within the Content-Security-Policy (hub.web.security):
no inline script, inline style, style attribute or event-handler attribute, and the hash the
policy allows for plotly.js's own stylesheet matches the installed bundle."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from hub.web import security

TEMPLATES = sorted((Path(security.__file__).parent / "templates").rglob("*.html"))
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_carry_nothing_inline_the_csp_refuses(template: Path) -> None:
    text = template.read_text("utf-8")
    found = [f"{what}: {m.group(0)!r}" for what, rx in INLINE.items() for m in rx.finditer(text)]
    assert found == [], f"{template.name}: move it to hub/web/static ({found})"


def test_the_scan_finds_what_it_looks_for() -> None:
    page = '<style>p{}</style><div style="x"><script>go()</script><a onclick="y">'
    assert all(rx.search(page) for what, rx in INLINE.items() if what != "javascript: URL")
    assert not INLINE["inline script"].search('<script type="application/json" id="d">')
    assert not INLINE["inline script"].search('<script src="/assets/hub.js">')


def test_the_policy_allows_exactly_the_styles_plotly_injects() -> None:
    from hub.analytics.notebook import plotly_source

    injection = r"createElement\(\"style\"\);e\.id=\"[0-9a-f]+\",e\.textContent='([^']*)'"
    injected = re.findall(injection, plotly_source())
    assert injected, "plotly.js no longer injects its map stylesheet this way: recheck the CSP"
    for css in ["", *injected]:
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in security.PLOTLY_STYLES
