"""Imports flow one way (DESIGN.md §2): the core knows no connectors, web, RQ or requests."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (package folder, forbidden dotted prefixes)
RULES = [
    ("hub/core", ("connectors", "hub.web", "rq", "flask.request")),
    ("connectors", ("hub.web",)),
]


def imported_names(source: str) -> Iterator[tuple[int, str]]:
    """Every dotted name a module imports, with its line: ``from a import b`` gives a and a.b."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def violations(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    """``file:line imports name`` for each forbidden import under ``folder``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for line, name in imported_names(path.read_text(encoding="utf-8")):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(folder)}:{line} imports {name}")
    return found


@pytest.mark.parametrize(("folder", "forbidden"), RULES)
def test_import_direction(folder: str, forbidden: tuple[str, ...]) -> None:
    assert (ROOT / folder).is_dir()
    assert violations(ROOT / folder, forbidden) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import rq", "mod.py:1 imports rq"),
        ("from rq.job import Job", "mod.py:1 imports rq.job"),
        ("from flask import request", "mod.py:1 imports flask.request"),
        ("import connectors.youzan.mapping as m", "mod.py:1 imports connectors.youzan.mapping"),
        ("def f():\n    from hub.web import api\n", "mod.py:2 imports hub.web"),
    ],
)
def test_checker_catches_forbidden_imports(tmp_path: Path, source: str, expected: str) -> None:
    (tmp_path / "mod.py").write_text(source)
    assert expected in violations(tmp_path, RULES[0][1])


@pytest.mark.parametrize(
    "source", ["from flask import current_app", "import rqueue", "from hub.core import records"]
)
def test_checker_allows_other_imports(tmp_path: Path, source: str) -> None:
    (tmp_path / "mod.py").write_text(source)
    assert violations(tmp_path, RULES[0][1]) == []
