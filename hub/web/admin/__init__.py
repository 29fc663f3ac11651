"""The admin UI: one blueprint per area, all behind sign-in and scoped to the user's workspace."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from hub.web.i18n import N_, _


def register(app: Flask) -> None:
    """Register every admin blueprint, the home redirect and the HTML error pages."""
    # Templates (base.html, shared with other pages such as the dashboard) and local assets.
    app.register_blueprint(
        Blueprint(
            "ui",
            "hub.web",
            template_folder="templates",
            static_folder="static",
            static_url_path="/assets",
        )
    )
    from hub.web.admin import (
        catalog,
        customers,
        deals,
        imports,
        inbox,
        labels,
        orders,
        privacy,
        rules,
        segments,
        settings,
        shipping,
        stores,
        syncs,
        webhook_deliveries,
    )

    for module in (
        stores,
        syncs,
        inbox,
        customers,
        orders,
        catalog,
        settings,
        imports,
        privacy,
        deals,
        shipping,
        webhook_deliveries,
        rules,
        segments,
    ):
        app.register_blueprint(module.bp)
    app.add_url_rule("/", "home", _home)
    app.add_template_filter(source_name, "source_name")
    app.add_template_filter(source_detail, "source_detail")
    app.add_template_filter(labels.product_status, "product_status")
    for words in (labels.field_label, labels.condition_field, labels.operator):
        app.add_template_global(words)  # globals: macros see no context
    app.context_processor(_template_globals)
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page)


def source_name(value: str | None) -> str:
    """A source's display name, translated ("youzan" -> "Youzan"); a merchant's own label as
    written; "" for none."""
    from hub.core import sources

    return _(sources.name(value)) if value else ""


# H4: HubSpot's original source values, in plain words.
SOURCE_WORDS = {
    "INTEGRATION_SYNC": N_("Integration sync"),
    "integrations-sync": N_("Created by a store's first sync"),
}


def source_detail(value: str | None) -> str:
    """An original source or its detail in plain words: a known HubSpot value translated, a
    known source by its name, else the value with its dashes and underscores as spaces."""
    if not value:
        return ""
    if value in SOURCE_WORDS:
        return _(SOURCE_WORDS[value])
    from hub.core import sources

    if sources.key(value) in sources.NAMES:
        return source_name(value)
    words = value.replace("_", " ").replace("-", " ").strip()
    if words.isupper():
        words = words.lower()
    return words[:1].upper() + words[1:]


def _home() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("stores.index"))


def _template_globals() -> dict[str, Any]:
    from hub.web.auth import is_admin

    return {"is_admin": is_admin, "nav_items": NAV + ADMIN_NAV if is_admin() else NAV}


NAV = [
    ("dashboard", "/dashboard", N_("Dashboard")),
    ("stores", "/stores", N_("Stores")),
    ("syncs", "/syncs", N_("Sync runs")),
    ("inbox", "/inbox", N_("Webhooks")),
    ("customers", "/customers", N_("Customers")),
    ("segments", "/segments", N_("Segments")),
    ("orders", "/orders", N_("Orders")),
    ("deals", "/deals", N_("Deals")),
    ("products", "/products", N_("Products")),
    ("tags", "/tags", N_("Tags & groups")),
    ("imports", "/imports", N_("Imports")),
    ("rules", "/rules", N_("Rules")),
    ("settings", "/settings/events", N_("Event settings")),
    ("fields", "/settings/fields", N_("Custom fields")),
    ("webhook_deliveries", "/settings/webhook-deliveries", N_("Outbound webhooks")),
]
ADMIN_NAV = [
    ("tokens", "/settings/tokens", N_("API tokens")),
    ("workspace", "/settings/workspace", N_("Workspace")),
    ("privacy", "/settings/privacy", N_("Privacy requests")),
]

HINTS = {
    400: N_("The request was not understood. Reload the page and send the form again."),
    403: N_("Your role cannot do this. Ask an admin of this workspace."),
    404: N_("There is nothing here. It may have been removed, or it belongs to another workspace."),
    405: N_("This page cannot be used that way. Go back and use the buttons on the page."),
    413: N_("The file is too large. Split it into smaller files and upload them one by one."),
    429: N_("Too many attempts. Wait a few minutes and try again."),
    500: N_("Something went wrong on our side. Try again; if it keeps happening, tell your admin."),
}


def _error_page(error: Exception) -> Any:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    detail = error.description if isinstance(error, HTTPException) else None
    if code == 400 and detail and "CSRF" in detail:
        detail = _("The form expired. Reload the page and send it again.")
    elif code != 403:
        detail = None
    return error_page(code, detail)


def error_page(code: int, detail: str | None = None) -> Any:
    """The HTML error page: the code, a hint of what to do and, when given, what was wrong."""
    hint = _(HINTS.get(code, HINTS[500]))
    return render_template("error.html", code=code, hint=hint, detail=detail), code
