"""Imports flow one way (DESIGN.md §2): the core knows no connectors, web, RQ or requests.
And SQLite is read and written through one library only, the stdlib's ``sqlite3`` (issue 20.1:
a second copy in a web worker deleted the WAL under the worker's own connections)."""

from __future__ import annotations

import ast
import configparser
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Bindings that carry a SQLite library of their own (DuckDB's and ConnectorX's SQLite readers too).
SQLITE_COPIES = ("adbc_driver_sqlite", "adbc_driver_manager", "apsw", "pysqlite3", "sqlean",
                 "sqlcipher3", "duckdb", "connectorx")  # fmt: skip

# (package folder, forbidden dotted prefixes)
RULES = [
    ("hub/core", ("connectors", "hub.web", "rq", "flask.request")),
    ("connectors", ("hub.web",)),
    ("hub", SQLITE_COPIES),
    ("connectors", SQLITE_COPIES),
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


def test_no_dependency_carries_a_second_sqlite() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    wanted = [config["options"]["install_requires"], *config["options.extras_require"].values()]
    names = {re.split(r"[\[<>=~!; ]", line.strip())[0].lower().replace("-", "_")
             for block in wanted for line in block.splitlines() if line.strip()}  # fmt: skip
    assert "flask" in names and names.isdisjoint(SQLITE_COPIES)


# ---------------------------------------------------------------- hub/core's own shape (issue 21.1)

CORE = ROOT / "hub" / "core"
MAX_CORE_LINES = 300


def core_modules() -> dict[str, Path]:
    """Dotted name -> file of every module under hub/core (a package by its __init__)."""
    out = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def test_no_core_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in core_modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_CORE_LINES
    }
    assert long == {}


def test_planning_reads_nothing_itself() -> None:
    """Planning (hub/core/plan) asks the store through functions: it imports no SQLAlchemy,
    no session, no backend."""
    forbidden = ("sqlalchemy", "hub.extensions", "hub.core.store", "hub.core.sqlite",
                 "hub.core.postgres")  # fmt: skip
    assert (CORE / "plan").is_dir()
    assert violations(CORE / "plan", forbidden) == []


def test_only_the_core_reaches_the_sqlite_fast_path() -> None:
    """The fast path's threads and checkpoints are the core's business: no caller (the sync
    engine, imports, web) asks for a checkpoint or a write-behind itself."""
    found = []
    for folder in sorted((ROOT / "hub").iterdir()):
        if folder.is_dir() and folder.name != "core":
            found += violations(folder, ("hub.core.sqlite", "hub.core.checkpoint"))
    assert found == []
