"""The UI's language, with Flask-Babel: ``_()`` in Python and ``{{ _() }}`` / ``{% trans %}`` in
Jinja, for every page, flash and JSON API message.

The language of a request: the signed-in user's choice (``users.locale``), else the one picked
on the sign-in page (kept in the session), else the browser's Accept-Language, else English.
``POST /language`` (hub.web.language; field ``locale``: a code, or empty for the browser's)
changes it: for the signed-in user only, or for this browser before sign-in.

Catalogs: ``hub/web/translations/<lang>/LC_MESSAGES/hub.po`` and its compiled ``hub.mo`` (both
committed). ``scripts/translations.sh update`` extracts the strings and lists the untranslated
ones; ``scripts/check_translations.py`` fails CI on any of them. Module-level text is marked with
``N_()`` (or ``lazy_()``) and translated where it is shown.
"""

from __future__ import annotations

from functools import cache, cached_property
from pathlib import Path
from typing import Any

from babel import Locale, support
from flask import (
    Flask,
    Response,
    g,
    has_request_context,
    request,
    session,
)
from flask_babel import Babel, Domain, get_locale, gettext, lazy_gettext, ngettext
from flask_login import current_user

DOMAIN = "hub"
LOCALE_DIR = Path(__file__).parent / "translations"
DEFAULT = "en"
SESSION_LOCALE = "hub_locale"  # the language picked before sign-in


def languages() -> list[str]:
    """English, then every language with a compiled catalog (``zh_CN``)."""
    return list(_languages())


@cache
def _languages() -> tuple[str, ...]:
    """The catalogs ship with the code: looked for once per process, not once per string."""
    found = (p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (DEFAULT, *sorted(found))


@cache
def _folders() -> dict[str, str]:
    """Babel's name of each catalog's locale (``zh_Hans_CN``) -> its folder (``zh_CN``)."""
    return {str(Locale.parse(code)): code for code in _languages()}


def gettext_(message: str, **variables: Any) -> str:
    """Translate ``message`` and interpolate ``%(name)s`` variables."""
    return gettext(message, **variables)


def ngettext_(singular: str, plural: str, n: int, **variables: Any) -> str:
    """The singular or plural form for ``n`` (``%(num)d`` is ``n``), translated."""
    return ngettext(singular, plural, n, **variables)


_ = gettext_
lazy_ = lazy_gettext


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Mark a string for extraction; it is translated where it is shown, with ``_()``."""
    return message


def error_text(exc: Exception) -> str:
    """A service error for the user: translated when the service marked its message (a
    ``message`` msgid and its ``params``, as ``hub.services.customers.Refused`` does)."""
    message, params = getattr(exc, "message", None), getattr(exc, "params", None)
    if isinstance(message, str) and isinstance(params, dict):
        if isinstance(params.get("label"), str):  # a field's label: marked for translation too
            params = {**params, "label": gettext_(params["label"])}
        return gettext_(message, **params)
    return str(exc)


def select_locale() -> str:
    """The user's choice, else the session's, else the browser's, else English."""
    if not has_request_context():
        return DEFAULT
    known = languages()
    chosen = getattr(current_user, "locale", None) if signed_in() else None
    chosen = chosen or session.get(SESSION_LOCALE)  # picked on the sign-in page
    if chosen in known:
        return str(chosen)
    g.hub_locale_from_header = True  # the answer varies with Accept-Language (see init_app)
    return request.accept_languages.best_match(known) or DEFAULT


def signed_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # no login manager on this request (e.g. the sessionless API)
        return False


def current_language() -> str:
    """The language of this request as an HTML ``lang`` (``en``, ``zh-CN``)."""
    return catalog_name(get_locale()).replace("_", "-")


def catalog_name(locale: Locale | None) -> str:
    """The folder of ``locale``'s catalog: ``zh_CN`` for the locale Babel calls zh_Hans_CN."""
    if locale is None:
        return DEFAULT
    return _folders().get(str(locale), str(locale))


class _Catalogs(Domain):
    """The hub's catalogs, found by folder name (zh_CN): Flask-Babel's own lookup asks for
    ``zh_Hans_CN``, which gettext never maps to ``zh_CN``."""

    def get_translations(self) -> support.NullTranslations:
        locale = get_locale()
        if locale is None:
            return support.NullTranslations()
        folder = catalog_name(locale)
        if folder not in self.cache:
            self.cache[folder] = support.Translations.load(str(LOCALE_DIR), [folder], DOMAIN)
        return self.cache[folder]


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _Catalogs(str(LOCALE_DIR), DOMAIN)


def language_choices() -> list[tuple[str, str]]:
    """(code, the language's own name) for the selector: English, 简体中文."""
    return [(code, _native_name(code)) for code in languages()]


def _native_name(code: str) -> str:
    locale = Locale.parse(code)
    if code == "zh_CN":
        return "简体中文"
    return (locale.get_display_name(locale) or code).capitalize()


def init_app(app: Flask) -> None:
    """Flask-Babel with the hub's domain and catalogs; ``_``/``gettext``/``ngettext`` in Jinja
    (newstyle: ``_('Hi %(n)s', n=x)``), plus the language selector's context."""
    _Babel(
        app,
        locale_selector=select_locale,
        default_domain=DOMAIN,
        default_translation_directories=str(LOCALE_DIR),
    )
    app.after_request(_vary)
    app.context_processor(
        lambda: {
            "html_lang": current_language(),
            "language_choices": language_choices(),
            "chosen_locale": _chosen(),
        }
    )


def _vary(response: Response) -> Response:
    """A page whose language came from Accept-Language says so to caches."""
    if g.get("hub_locale_from_header"):
        response.vary.add("Accept-Language")
    return response


def _chosen() -> str:
    """The locale explicitly chosen (user or session), or "" when following the browser."""
    if signed_in() and getattr(current_user, "locale", None):
        return str(current_user.locale)
    return str(session.get(SESSION_LOCALE) or "")
