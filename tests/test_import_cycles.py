"""No circular imports in hub/ (issue 21.5). The graph has an edge from a module to every hub
module it imports anywhere: at module level, inside functions, under ``TYPE_CHECKING``;
relative imports resolved. ``from a import b`` is an edge to ``a.b`` when that is a module, else
to ``a``. A package's ``__init__`` is a node like any module; importing ``a.b`` is no edge to
``a`` (its ``__init__`` runs, but the imports inside its functions do not)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

Graph = dict[str, set[str]]


def modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file, for every module under ``root/package`` (packages by __init__)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """(dotted base, imported name or None) for each import statement anywhere in the tree."""
    package = module if is_package else module.rpartition(".")[0]
    for item in ast.walk(node):
        if isinstance(item, ast.Import):
            for alias in item.names:
                yield alias.name, None
        elif isinstance(item, ast.ImportFrom):
            base = item.module or ""
            if item.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - item.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in item.names:
                yield base, alias.name


def import_graph(root: Path, package: str = "hub") -> Graph:
    """Module -> the modules of ``package`` it imports (itself excluded)."""
    known = modules(root, package)

    def resolve(dotted: str) -> str | None:
        parts = dotted.split(".")
        while parts and ".".join(parts) not in known:
            parts.pop()
        return ".".join(parts) or None

    graph: Graph = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for base, imported in _imported(tree, name, path.name == "__init__.py"):
            full = f"{base}.{imported}" if imported else base
            target = full if full in known else resolve(base)
            if target is not None:
                targets.add(target)
        targets.discard(name)
        graph[name] = targets
    return graph


def _components(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _shortest_cycle(graph: Graph, members: set[str], start: str) -> tuple[str, ...]:
    """The shortest cycle through ``start`` inside one component (breadth first)."""
    paths = {start: (start,)}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    return paths[node]
                if child not in paths:
                    paths[child] = (*paths[node], child)
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is on no cycle")  # pragma: no cover


def cycles(graph: Graph) -> set[tuple[str, ...]]:
    """Every module on a cycle gets the shortest cycle through it, rotated to start at its
    smallest module: one cycle names each way round a component."""
    found = set()
    for component in _components(graph):
        members = set(component)
        for start in component:
            cycle = _shortest_cycle(graph, members, start)
            turn = cycle.index(min(cycle))
            found.add(cycle[turn:] + cycle[:turn])
    return found


def _named(cycle: tuple[str, ...]) -> str:
    return " -> ".join((*cycle, cycle[0]))


def test_hub_has_no_import_cycles() -> None:
    found = cycles(import_graph(ROOT))
    named = sorted(_named(c) for c in found)
    assert named == [], "circular imports in hub/:\n" + "\n".join(named)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (  # module level, two modules
            {"pkg/__init__.py": "", "pkg/a.py": "import pkg.b\n", "pkg/b.py": "from pkg import a"},
            {("pkg.a", "pkg.b")},
        ),
        (  # inside a function, relative, through a package __init__, three modules
            {
                "pkg/__init__.py": "def f():\n    from .sub import c\n",
                "pkg/sub/__init__.py": "",
                "pkg/sub/c.py": "from ..d import x\n",
                "pkg/d.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg import f\n",
            },
            {("pkg", "pkg.sub.c", "pkg.d")},
        ),
        (  # a name imported from a module is an edge to that module
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from pkg.b import thing\n",
                "pkg/b.py": "def g():\n    from . import a\n",
            },
            {("pkg.a", "pkg.b")},
        ),
    ],
)
def test_checker_finds_a_cycle(
    tmp_path: Path, files: dict[str, str], expected: set[tuple[str, ...]]
) -> None:
    assert cycles(import_graph(_package(tmp_path, files), "pkg")) == expected


def test_checker_passes_a_package_without_cycles(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "def make():\n    from pkg import web\n",
            "pkg/web.py": "from pkg import jobs\nimport os\n",
            "pkg/jobs.py": "import importlib\nFACTORY = 'pkg.make'\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/x.py": "from pkg import jobs\n",  # importing pkg.jobs is no edge to pkg
        },
    )
    graph = import_graph(root, "pkg")
    assert graph["pkg.web"] == {"pkg.jobs"} and graph["pkg.sub.x"] == {"pkg.jobs"}
    assert cycles(graph) == set()
