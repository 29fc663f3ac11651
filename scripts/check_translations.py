#!/usr/bin/env python3
"""Fail when a string the code shows has no translation: extract every msgid (babel.cfg, the
keywords of scripts/translations.sh), then check each catalog under hub/web/translations for
msgids that are missing, untranslated or fuzzy, placeholders that differ from the msgid's, and a
compiled .mo that is not the .po's. Prints each problem naming the string; exit 1 if any.

    scripts/check_translations.py [--root DIR] [--list]

--root: the tree to check (default: this checkout); --list: print the problems, exit 0.
"""

from __future__ import annotations

import argparse
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = Path("hub/web/translations")
DOMAIN = "hub"
KEYWORDS = {  # pybabel's defaults plus the hub's helpers (hub.web.i18n)
    **DEFAULT_KEYWORDS,
    "N_": None,
    "lazy_": None,
    "gettext_": None,
    "ngettext_": (1, 2),
}


def extract(root: Path) -> dict[str, list[str]]:
    """msgid -> where it is used (file:line), from the code and templates babel.cfg names."""
    with (root / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, list[str]] = {}
    for path, line, message, _comments, _ctx in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{path}:{line}")
    return found


def problems(root: Path) -> list[str]:
    """Every problem of every catalog under ``root``, one line each."""
    used = extract(root)
    out: list[str] = []
    pos = sorted((root / CATALOGS).glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    if not pos:
        out.append(f"no catalog: {CATALOGS}/<lang>/LC_MESSAGES/{DOMAIN}.po is missing")
    for po in pos:
        out += catalog_problems(po, used)
    return out


def catalog_problems(po: Path, used: dict[str, list[str]]) -> list[str]:
    lang = po.parent.parent.name
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    out: list[str] = []
    for msgid, where in sorted(used.items()):
        message = catalog.get(msgid)
        if message is None:
            out.append(f"{lang}: missing: {msgid!r} ({where[0]})")
        elif message.fuzzy:
            out.append(f"{lang}: fuzzy: {msgid!r} ({where[0]})")
        elif not all(message.string) if isinstance(message.string, tuple) else not message.string:
            out.append(f"{lang}: untranslated: {msgid!r} ({where[0]})")
    for message, errors in catalog.check():
        for error in errors:
            out.append(f"{lang}: {error} in {message.id!r}")
    out += _mo_problems(po, catalog)
    return out


def _mo_problems(po: Path, catalog: Catalog) -> list[str]:
    """The compiled .mo must say what the .po says (run scripts/translations.sh compile)."""
    mo = po.with_suffix(".mo")
    lang = po.parent.parent.name
    if not mo.exists():
        return [f"{lang}: {mo} is missing: run scripts/translations.sh compile"]
    with mo.open("rb") as f:
        compiled = read_mo(f)
    fresh = BytesIO()
    write_mo(fresh, catalog)
    fresh.seek(0)
    expected = read_mo(fresh)
    if _texts(compiled) != _texts(expected):
        return [f"{lang}: {mo} is older than its .po: run scripts/translations.sh compile"]
    return []


def _texts(catalog: Catalog) -> dict[object, object]:
    def key(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--list", action="store_true", help="print the problems, exit 0")
    args = parser.parse_args(argv)
    found = problems(args.root.resolve())
    for line in found:
        print(line)
    if found and not args.list:
        print(f"{len(found)} translation problem(s): see scripts/translations.sh", file=sys.stderr)
        return 1
    if not found:
        print("translations: every string the code shows is translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
