"""Text ready for translation: ``_()`` in Python and ``{{ _() }}`` / ``{% trans %}`` in Jinja.

Catalogs are standard gettext ``.mo`` files under ``hub/web/translations/<lang>/LC_MESSAGES/
hub.mo`` (extract with ``pybabel extract`` or ``xgettext``). Without a catalog, English is shown.
"""

from __future__ import annotations

import gettext
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request

DOMAIN = "hub"
LOCALE_DIR = Path(__file__).parent / "translations"


def _languages() -> list[str]:
    return sorted(p.name for p in LOCALE_DIR.iterdir() if p.is_dir()) if LOCALE_DIR.is_dir() else []


def _translations() -> gettext.NullTranslations:
    cache: dict[str, gettext.NullTranslations] = current_app.extensions["hub.i18n"]
    lang = "en"
    if has_request_context():
        lang = request.accept_languages.best_match(_languages()) or "en"
    if lang not in cache:
        cache[lang] = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    return cache[lang]


def gettext_(message: str, **variables: Any) -> str:
    """Translate ``message`` and interpolate ``%(name)s`` variables."""
    text = _translations().gettext(message)
    return text % variables if variables else text


def ngettext_(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = _translations().ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext_


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Mark a string for extraction; it is translated where it is shown, with ``_()``."""
    return message


def init_app(app: Flask) -> None:
    """Install ``_``/``gettext``/``ngettext`` into Jinja (newstyle: ``_('Hi %(n)s', n=x)``)."""
    app.extensions["hub.i18n"] = {}
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: _translations().gettext(s),
        lambda s, p, n: _translations().ngettext(s, p, n),
        newstyle=True,
    )
