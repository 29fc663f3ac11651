"""The Shopify connector: so far only its platform name and its sandbox (issue 23 groundwork).

Not in ``config.DEFAULT_CONNECTORS`` yet: ``hub sandbox shopify`` finds it through
``hub.demo.sandboxes``' fallback to ``connectors.<platform>.connector``. Binding, streams and
webhooks are built on top of this class by the connector's own session.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.connectors import BindInfo, Connector
from hub.core.errors import ConfigError

# nothing older than 2024-01 (email_marketing_consent, current_quantity)
DEFAULT_VERSION = "2025-01"


class ShopifySettings(Schema):
    """Bind form (issue 23's names): shop, access_token, client_secret, api_base, api_version."""

    shop = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$"),
        metadata={"label": "Shop (name.myshopify.com)"},
    )
    access_token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"label": "Admin API access token", "secret": True},
    )
    client_secret = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"label": "Client secret", "secret": True},
    )
    api_base = fields.URL(
        load_default=None,
        allow_none=True,
        require_tld=False,
        validate=validate.Length(max=150),
        metadata={"label": "API base URL", "platform_base": True},
    )
    api_version = fields.String(
        load_default=DEFAULT_VERSION,
        validate=validate.Regexp(r"^20\d\d-(01|04|07|10)$"),
        metadata={"label": "API version"},
    )


class ShopifyConnector(Connector):
    platform = "shopify"
    display_name = "Shopify"
    settings_schema = ShopifySettings
    capabilities = frozenset({"pull", "push"})
    sandbox_module = "connectors.shopify.sandbox_server"

    def check(self) -> BindInfo:
        raise ConfigError("the Shopify connector is not built yet (issue 23)")
