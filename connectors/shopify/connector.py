"""The Shopify connector (issue 23, H1–H10): bind with shop / access_token / client_secret
(``api_base``, ``api_version``), pull customers, products, orders, abandoned checkouts and
deletions, take webhooks. It never touches the database: the engine and the webhook inbox
apply its records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from connectors.shopify import webhooks
from connectors.shopify.client import DEFAULT_VERSION, ShopifyClient, default_base
from connectors.shopify.mapping import (
    PLATFORM,
    SALES_CHANNEL,
    map_checkout,
    map_customer,
    map_order,
    map_privacy,
    map_product,
    sid,
)
from connectors.shopify.streams import (
    CheckoutsStream,
    CustomersStream,
    DeletionsStream,
    OrdersStream,
    ProductsStream,
)
from hub.connectors import BindInfo, Connector, Stream, WebhookAck, WebhookInfo
from hub.core.errors import N_, AuthError, ConfigError, CredentialsRevoked, PermissionDenied
from hub.core.records import DeletionRecord, Record
from hub.sync.egress import origin_of, same_base

ALL_ORDERS_SCOPE = "read_all_orders"
NO_ALL_ORDERS = N_(
    "The access token was not granted the read_all_orders scope: orders older than 60 days "
    "are not readable, so they are not synced"
)
UNINSTALLED = N_(
    "The app was uninstalled from the Shopify shop: its access token no longer works. "
    "Install the app again and bind the store with the new access token"
)


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
    platform = PLATFORM
    display_name = "Shopify"
    settings_schema = ShopifySettings
    capabilities = frozenset({"pull", "push"})
    sales_channel = SALES_CHANNEL
    sandbox_module = "connectors.shopify.sandbox_server"
    webhook_setup = N_(
        "In the Shopify admin, open Settings, then Notifications, then Webhooks (or your app's "
        "configuration in the Partner Dashboard): create a webhook for each topic (orders, "
        "customers, products, checkouts, refunds/create, app/uninstalled) with this address, "
        "format JSON, and register the same address for the three mandatory compliance "
        "webhooks. Shopify signs each webhook with the app's client secret; the hub checks it."
    )

    def __init__(self, config: Mapping[str, Any], context: Any) -> None:
        super().__init__(config, context)
        secrets = {**self.config, **(context.credentials or {})}
        self.client = ShopifyClient(
            http=context.http,
            shop=self.shop,
            access_token=str(secrets.get("access_token") or ""),
            api_base=self.config.get("api_base") or None,
            api_version=str(self.config.get("api_version") or DEFAULT_VERSION),
        )
        self.client_secret = str(secrets.get("client_secret") or "")
        self.scopes: list[str] = []
        self._counted = 0

    @classmethod
    def secret_fields(cls) -> set[str]:
        return {"access_token", "client_secret"}

    @property
    def shop(self) -> str:
        return str(self.config.get("shop") or "")

    @property
    def throttled(self) -> int:
        """429s answered by Shopify so far (each waited out and retried)."""
        return self.client.throttled

    def take_counts(self) -> dict[str, dict[str, int]]:
        """What the engine adds to the run's counts since the last take: the 429s survived
        (``api.throttled``)."""
        throttled = self.client.throttled - self._counted
        self._counted = self.client.throttled
        return {"api": {"throttled": throttled}} if throttled else {}

    # ------------------------------------------------------------------ bind
    def check(self) -> BindInfo:
        """``shop.json`` proves the token; the granted scopes say what it may read."""
        try:
            body = self.client.get("shop.json")
        except PermissionDenied:
            raise
        except AuthError:
            raise AuthError(
                f"access_token: Shopify refused the Admin API access token for {self.shop} "
                "(HTTP 401): check the token, or install the app again"
            ) from None
        shop = (body or {}).get("shop") if isinstance(body, dict) else None
        if not isinstance(shop, dict) or shop.get("id") is None:
            raise ConfigError(
                f"shop: {self.client.api_base} did not answer shop.json as a Shopify shop does"
            )
        self.scopes = self._scopes()
        warnings = [] if ALL_ORDERS_SCOPE in self.scopes else [NO_ALL_ORDERS]
        name = str(shop.get("name") or self.shop)
        return BindInfo(
            sid(shop.get("id")) or self.shop, name, None, self._origin(), warnings,
            granted=sorted(self.scopes),
        )  # fmt: skip

    def _scopes(self) -> list[str]:
        body = self.client.get_absolute("/admin/oauth/access_scopes.json") or {}
        rows = body.get("access_scopes") if isinstance(body, dict) else None
        return sorted(str(r.get("handle")) for r in rows or [] if isinstance(r, dict))

    def _origin(self) -> str | None:
        """None when the base is the shop's own address (Shopify vouches for the shop);
        any other base (a sandbox, a proxy) gives its origin, under which the claim is kept."""
        official = self.context.official_bases.get(self.platform, default_base(self.shop))
        if same_base(self.client.api_base, official):
            return None
        return origin_of(self.client.api_base)

    def warnings(self) -> list[str]:
        return [NO_ALL_ORDERS] if self.scopes and ALL_ORDERS_SCOPE not in self.scopes else []

    # ------------------------------------------------------------------ pull
    def streams(self) -> list[Stream]:
        kw = {"store_id": self.shop or None, "store_name": self.config.get("store_name")}
        return [
            CustomersStream(self.client, **kw),
            ProductsStream(self.client, **kw),
            OrdersStream(self.client, **kw),
            CheckoutsStream(self.client, **kw),
            DeletionsStream(self.client, **kw),
        ]

    # ------------------------------------------------------------------ webhooks
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.verify(headers, body, self.client_secret)

    def webhook_info(self, headers: Mapping[str, str], body: bytes) -> WebhookInfo:
        webhooks.parse(body)  # an unreadable body is refused (400) before it is stored
        return webhooks.info(headers, body)

    def webhook_ack(self) -> WebhookAck:
        return WebhookAck(body='{"ok":true}')

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> list[Record]:
        topic = webhooks.header(headers, "X-Shopify-Topic").strip()
        message = webhooks.parse(body)
        at = webhooks.triggered_at(headers)
        store = {"store_id": self.shop or None, "store_name": self.config.get("store_name")}
        if topic in webhooks.ORDER_TOPICS:
            return [map_order(message, triggered_at=at, **store)]
        if topic in webhooks.REREAD_TOPICS:
            oid = webhooks.reread_id(topic, message)
            data = self.client.get(f"orders/{oid}.json") if oid else None
            order = (data or {}).get("order") if isinstance(data, dict) else None
            return [map_order(order, triggered_at=at, **store)] if order else []
        if topic == "orders/delete":
            oid = sid(message.get("id"))
            return [DeletionRecord(PLATFORM, "order", oid)] if oid else []
        if topic in ("customers/create", "customers/update"):
            record = map_customer(message)
            return [record] if record else []
        if topic in ("products/create", "products/update"):
            return [map_product(message)]
        if topic == "products/delete":
            pid = sid(message.get("id"))
            return [DeletionRecord(PLATFORM, "product", pid)] if pid else []
        if topic in ("checkouts/create", "checkouts/update"):
            return [map_checkout(message)]
        if topic in webhooks.COMPLIANCE_TOPICS:
            privacy = map_privacy(topic, message)
            return [privacy] if privacy else []
        if topic == webhooks.UNINSTALLED:
            raise CredentialsRevoked(UNINSTALLED)
        # customers/delete (H3: kept in the hub), checkouts/delete (a deleted cart leaves
        # the deal as it was), and topics the hub does not use
        return []
