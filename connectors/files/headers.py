"""One way to compare spreadsheet headers, for every file kind (Sobot, Tmall, customers).

A header matches a name when both have the same key: Unicode NFKC (full-width letters, digits,
spaces and ``＊`` become their plain forms), case folded, without the required-field marker
``*`` and without spaces, ``_``, ``-``, ``.`` or ``:`` anywhere. So ``Product SKU*``,
`` product  sku ``, ``ＰＲＯＤＵＣＴ　ＳＫＵ`` and ``product_sku`` are the same header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["canonical_headers", "find_columns", "header_key"]

_IGNORED = re.compile(r"[\s*_\-.:：]+")


def header_key(text: str) -> str:
    """The key two headers are compared by (see the module's docstring)."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text).casefold())


def find_columns(headers: Sequence[str], names: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """field -> index of the file's column for it: the first header matching one of the
    field's names (its label, its other language, its aliases). Fields not found are left out;
    a column serves one field only (the first field that names it)."""
    by_key: dict[str, int] = {}
    for i, header in enumerate(headers):
        by_key.setdefault(header_key(header), i)
    found: dict[str, int] = {}
    taken: set[int] = set()
    for field, aliases in names.items():
        for name in aliases:
            at = by_key.get(header_key(name))
            if at is not None and at not in taken:
                found[field] = at
                taken.add(at)
                break
    return found


def canonical_headers(headers: Sequence[str], known: Iterable[str]) -> list[str]:
    """``headers`` with each one that matches a ``known`` name spelled as that name."""
    spelled = {header_key(name): name for name in known}
    return [spelled.get(header_key(h), h) for h in headers]
