"""Issue 21.7: the hub knows a file kind only through the file-import contract
(``hub.connectors.FileConnector``): nothing in hub/ compares or matches a value against a
registered file kind's name, nor keys a table by it. A kind's entity, pre-check, column mapping
and demo samples are what its connector declares."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import config, registry
from hub.connectors import FileConnector

ROOT = Path(__file__).resolve().parents[1]


def file_connectors() -> list[type[FileConnector]]:
    found = registry.load(config.DEFAULT_CONNECTORS).values()
    return [c for c in found if issubclass(c, FileConnector)]


def kind_names() -> tuple[set[str], set[str]]:
    """(names that may not be branched on: kinds and their platforms, entity names)."""
    classes = file_connectors()
    names = {c.import_kind for c in classes} | {c.platform for c in classes}
    return names, {c.entity for c in classes}


def _strings(node: ast.AST) -> Iterator[str]:
    """The string constants of a value, looking into tuple, list and set literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from _strings(element)


def _branches(tree: ast.AST, names: set[str], entities: set[str]) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                yield from ((node.lineno, s) for s in _strings(side) if s in names)
        elif isinstance(node, ast.MatchValue):
            yield from ((node.lineno, s) for s in _strings(node.value) if s in names)
        elif isinstance(node, ast.Dict):  # a table keyed by kind (an entity name is a fine key)
            for key in node.keys:
                if key is not None:
                    yield from ((key.lineno, s) for s in _strings(key) if s in names - entities)
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):  # a hard-coded list of kinds
            found = [s for s in _strings(node) if s in names]
            if len(found) > 1:
                yield node.lineno, ", ".join(found)


def kind_branches(folder: Path, names: set[str], entities: set[str]) -> list[str]:
    """``file:line names kind`` for each place under ``folder`` that branches on a kind name."""
    out = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, name in sorted(set(_branches(tree, names, entities))):
            out.append(f"{path.relative_to(folder)}:{line} names {name}")
    return out


def test_i21_7_the_shipped_file_kinds_are_known() -> None:
    names, entities = kind_names()
    assert {"customers", "sobot-orders", "tmall-orders", "sobot", "tmall"} <= names
    assert entities == {"customers", "orders"}


# Not branches: the vocabulary of source keys and their display names (a source is where data
# came from; "tmall" and "sobot" are sources as well as the names of file kinds), and the
# migration that rewrote the stored spellings to those keys (history, frozen).
NAMING_SOURCES = {
    "core/sources.py",
    "migrations/versions/c3a7d91e5f20_canonical_sources_tags_any_case.py",
}


def test_i21_7_no_file_kind_name_is_branched_on_in_hub() -> None:
    names, entities = kind_names()
    found = kind_branches(ROOT / "hub", names, entities)
    assert [f for f in found if f.split(":")[0] not in NAMING_SOURCES] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('if kind == "sobot-orders":\n    pass', "mod.py:1 names sobot-orders"),
        ('x = "imports.mapping" if kind == "customers" else "x"', "mod.py:1 names customers"),
        ('ok = run.kind in ("tmall-orders",)', "mod.py:1 names tmall-orders"),
        ('ENTITY = {"customers": "customers", "sobot-orders": "orders"}', "names sobot-orders"),
        ('KINDS = ("customers", "sobot-orders", "tmall-orders")', "names customers, sobot-o"),
        ('match kind:\n    case "tmall-orders":\n        pass', "mod.py:2 names tmall-orders"),
        ('if platform != "sobot":\n    pass', "mod.py:1 names sobot"),
    ],
)
def test_checker_catches_kind_branches(tmp_path: Path, source: str, expected: str) -> None:
    (tmp_path / "mod.py").write_text(source)
    found = kind_branches(tmp_path, *kind_names())
    assert any(expected in line for line in found), found


@pytest.mark.parametrize(
    "source",
    [
        'counts = {"customers": 1, "orders": 2}',  # an entity, not a kind
        'nav = ("customers", "/customers", "Customers")',
        'if connector.entity == "orders":\n    pass',
        'SOURCES = (("youzan", "Youzan"), ("tmall", "Tmall"))',
    ],
)
def test_checker_allows_entities_and_single_names(tmp_path: Path, source: str) -> None:
    (tmp_path / "mod.py").write_text(source)
    assert kind_branches(tmp_path, *kind_names()) == []


def test_i21_7_each_file_connector_declares_its_contract() -> None:
    for cls in file_connectors():
        assert cls.entity in ("customers", "orders"), cls
        assert cls.samples and all(p.is_file() for p in cls.sample_files()), cls
        assert len(cls.sample_files()) == cls.file_count, cls
    mapped = {c.import_kind for c in file_connectors() if c.column_mapping}
    assert mapped == {"customers"}
