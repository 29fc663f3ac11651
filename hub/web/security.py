"""Security headers on every response (pages, the JSON API, webhook answers) and the client
address behind trusted proxies.

The pages load scripts and styles from the hub itself only: no inline script, no inline style
and no style attribute in the templates (tests/unit/test_templates_csp.py keeps it that way).
The exceptions are two ``<style>`` elements plotly.js creates, each allowed by the hash of its
exact text: an empty one it fills through the CSSOM (insertRule, which a policy does not
govern), and the stylesheet of its bundled map library. A plotly upgrade that changes the
latter fails tests/unit/test_templates_csp.py, which derives the hash from the installed bundle.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from hub.config import ConfigError

PLOTLY_STYLES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # "": its rule sheet
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",  # maplibre-gl.css of plotly.js 4.1.1
)
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' " + " ".join(PLOTLY_STYLES),
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Add the headers to every response; with HUB_TRUSTED_PROXIES=N (the number of proxies in
    front of the hub), take the client address from the last N X-Forwarded-For entries."""
    app.after_request(_add_headers)
    hops = app.config.get("TRUSTED_PROXIES") or 0
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        raise ConfigError(
            f"HUB_TRUSTED_PROXIES must be the number of proxies in front of the hub "
            f"(0, 1, 2...), not {hops!r}"
        )
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
