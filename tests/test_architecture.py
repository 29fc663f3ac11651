"""Imports flow one way (DESIGN.md §2): the core knows no connectors, web, RQ or requests.
And SQLite is read and written through one library only, the stdlib's ``sqlite3`` (issue 20.1:
a second copy in a web worker deleted the WAL under the worker's own connections)."""

from __future__ import annotations

import ast
import configparser
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
                 "hub.core.postgres", "hub.models")  # fmt: skip
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


# ---------------------------------------------------------------- what is loaded (issue 21.8)
# The rules above read import statements; these import the modules in a fresh interpreter and
# look at what came in with them, so a dependency reached through another module (hub.core ->
# hub.models -> hub.extensions -> flask) is caught too.

# Never loaded by hub.core (nor by any of its modules).
CORE_UNLOADED = ("flask", "redis", "rq", "requests", "werkzeug", "jinja2")
# Never loaded by a connector's mapping (a pure function of the platform's payload).
MAPPING_UNLOADED = ("flask", "werkzeug", "jinja2", "rq")

_LOADED = """
import importlib, json, os, sys
unwanted, names = set(sys.argv[1].split(",")), sys.argv[3:]
def found():
    return sorted({m.split(".")[0] for m in sys.modules} & unwanted)
if sys.argv[2] == "together":
    for name in names:
        importlib.import_module(name)
    print(json.dumps(found()))
else:  # each module in a child forked from this bare interpreter: nothing imported before it
    import sqlalchemy.orm  # but SQLAlchemy (most of each child's import time), if it loads none
    assert not found(), found()  # of the unwanted
    report = {}
    for name in names:
        read, write = os.pipe()
        if os.fork() == 0:
            importlib.import_module(name)
            os.write(write, json.dumps(found()).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            report[name] = json.loads(pipe.read() or '["(import failed)"]')
        os.wait()
    print(json.dumps({name: bad for name, bad in report.items() if bad}))
"""


def loaded(
    modules: list[str], unwanted: tuple[str, ...], path: Path = ROOT, *, each: bool = False
) -> Any:
    """Which of ``unwanted`` (top-level packages) a fresh interpreter has loaded once it has
    imported ``modules`` from ``path``; with ``each``, {module: those it loaded} for every
    module imported alone that loaded any."""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _LOADED, ",".join(unwanted), "each" if each else "together",
         *modules],
        capture_output=True, text=True, cwd=path, timeout=50, check=False,
        env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def modules_under(folder: str) -> list[str]:
    """The dotted names of a package and every module below it."""
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / folder).rglob("*.py")
    )


def test_importing_the_core_loads_no_web_queue_or_http_library() -> None:
    core = modules_under("hub/core")
    assert "hub.core" in core and "hub.core.ingest" in core and len(core) > 10
    assert loaded(core, CORE_UNLOADED) == []


def test_each_core_module_alone_loads_no_web_queue_or_http_library() -> None:
    """One interpreter per module: a module that only loads Flask when imported first is
    caught too (together, an earlier import could hide it)."""
    assert loaded(modules_under("hub/core"), CORE_UNLOADED, each=True) == {}


def test_connector_mappings_load_no_flask() -> None:
    mappings = [m for m in modules_under("connectors") if m.endswith(".mapping")]
    assert len(mappings) >= 4
    assert loaded(mappings, MAPPING_UNLOADED) == []


def test_the_loaded_check_catches_a_module_that_imports_flask(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "plain.py").write_text("import json\n")
    (tmp_path / "pkg" / "helper.py").write_text("def f():\n    return 1\nimport flask\n")
    (tmp_path / "pkg" / "core.py").write_text("from pkg import helper  # flask, one step away\n")
    assert loaded(["pkg.plain"], CORE_UNLOADED, tmp_path) == []
    assert loaded(["pkg.plain", "pkg.core"], CORE_UNLOADED, tmp_path, each=True) == {
        "pkg.core": ["flask", "jinja2", "werkzeug"]
    }
    assert loaded(["pkg.plain", "pkg.core"], CORE_UNLOADED, tmp_path) == ["flask", "jinja2",
                                                                         "werkzeug"]  # fmt: skip
