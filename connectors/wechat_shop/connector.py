"""The WeChat Mini Shop connector (issue 24, W1–W8): bind with appid / secret / push_token,
one stored token per store, pull products then orders, take pushes, ship orders back. It never
touches the database: the engine and the webhook inbox apply its records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from connectors.wechat_shop import shipping, webhooks
from connectors.wechat_shop.client import (
    DEFAULT_BASE,
    TOKEN_KEYS,
    WechatApiError,
    WechatShopClient,
    no_lock,
)
from connectors.wechat_shop.mapping import PLATFORM, SALES_CHANNEL, map_order
from connectors.wechat_shop.products import rules
from connectors.wechat_shop.streams import OrdersStream, ProductsStream
from hub.connectors import (
    BindInfo,
    Carrier,
    Connector,
    Shipment,
    ShipResult,
    Stream,
    WebhookAck,
    WebhookInfo,
)
from hub.core.errors import N_, ConfigError
from hub.core.records import Record
from hub.sync.egress import origin_of, same_base


class WechatShopSettings(Schema):
    """Bind form: the mini shop's appid and secret, the push token (and AES key), the API base."""

    appid = fields.String(
        required=True,
        validate=validate.Regexp(r"^wx[0-9A-Za-z]{6,30}$"),
        metadata={"label": "AppID (wx…)"},
    )
    secret = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"label": "AppSecret", "secret": True},
    )
    push_token = fields.String(
        required=True,
        validate=validate.Length(min=3, max=64),
        metadata={"label": "Push token (message push Token)", "secret": True},
    )
    encoding_aes_key = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[0-9A-Za-z]{43}$"),
        metadata={"label": "EncodingAESKey (optional)", "secret": True},
    )
    api_base = fields.URL(
        load_default=DEFAULT_BASE,
        require_tld=False,
        validate=validate.Length(max=150),
        metadata={"label": "API base URL", "platform_base": True},
    )
    quota_wait_seconds = fields.Float(
        load_default=60.0,
        validate=validate.Range(min=0.1, max=60),
        metadata={"label": "Longest wait after the per-minute quota (45011), seconds"},
    )


class WechatShopConnector(Connector):
    platform = PLATFORM
    display_name = "WeChat Mini Shop"
    settings_schema = WechatShopSettings
    capabilities = frozenset({"pull", "push", "ship", "migrate"})
    sales_channel = SALES_CHANNEL
    sandbox_module = "connectors.wechat_shop.sandbox_server"
    # W7: automatic by default, orders every 5 minutes (no 30-minute floor), products daily
    sync_interval_default = 5
    sync_interval_min = 5
    stream_intervals = {"products": 1440}
    webhook_setup = N_(
        "In the WeChat mini program admin (mp.weixin.qq.com), open Development, then "
        "Development settings, then Message push: paste this address as the URL, enter the "
        "same Token as the push token bound here, choose plain text mode and JSON or XML, and "
        "submit. WeChat checks the address with a signed request; the hub answers it and "
        "checks the signature of every push."
    )

    def __init__(self, config: Mapping[str, Any], context: Any) -> None:
        super().__init__(config, context)
        stored = {**self.config, **(context.credentials or {})}
        self.client = WechatShopClient(
            http=context.http,
            appid=self.appid,
            secret=str(stored.get("secret") or ""),
            api_base=str(self.config.get("api_base") or DEFAULT_BASE),
            token_state={k: stored[k] for k in TOKEN_KEYS if k in stored},
            save=context.save_credentials,
            load=getattr(context, "load_credentials", None),
            lock=getattr(context, "lock", None) or no_lock,
            quota_wait=float(self.config.get("quota_wait_seconds") or 60.0),
        )
        self.push_token = str(stored.get("push_token") or "")
        self.aes_key = str(stored.get("encoding_aes_key") or "") or None
        self._counted = 0

    @classmethod
    def secret_fields(cls) -> set[str]:
        return {"secret", "push_token", "encoding_aes_key"}

    @property
    def appid(self) -> str:
        return str(self.config.get("appid") or "")

    @property
    def rules(self) -> dict[str, Any]:
        return rules(self.config)

    def take_counts(self) -> dict[str, dict[str, int]]:
        """What the engine adds to the run's counts: -1 / 45011 / 45009 answers survived
        (``api.throttled``)."""
        throttled = self.client.throttled - self._counted
        self._counted = self.client.throttled
        return {"api": {"throttled": throttled}} if throttled else {}

    # ------------------------------------------------------------------ bind (W1)
    def check(self) -> BindInfo:
        """Take a token (proves appid and secret), then read one SPU page (proves the API)."""
        self.client.token()
        try:
            self.client.call("/product/spu/get_list", {"status": 5, "page": 1, "page_size": 1})
        except WechatApiError as exc:
            raise ConfigError(
                f"appid: the token works but the mini shop API refused a product list: {exc}"
            ) from None
        name = str(self.config.get("store_name") or f"WeChat Mini Shop {self.appid}")
        token = dict(self.client.token_state)  # kept: the first sync reuses it
        return BindInfo(self.appid, name, self.client.expires_at, self._origin(), credentials=token)

    def _origin(self) -> str | None:
        """None on WeChat's own API base; any other base (a sandbox) gives its origin."""
        official = self.context.official_bases.get(self.platform, DEFAULT_BASE)
        if same_base(self.client.api_base, official):
            return None
        return origin_of(self.client.api_base)

    # ------------------------------------------------------------------ pull (W4, W6, W7)
    def streams(self) -> list[Stream]:
        rule, known = self.rules, set[str]()
        store = self._store()
        return [
            ProductsStream(self.client, rule, known=known),
            OrdersStream(self.client, rule, known=known, store_id=store["store_id"],
                         store_name=store["store_name"]),
        ]  # fmt: skip

    # ------------------------------------------------------------------ pushes
    webhook_query_fields = webhooks.QUERY_FIELDS

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.verify(headers, self.push_token) and webhooks.verify_encrypted(
            headers, body, self.push_token
        )

    def webhook_challenge(self, headers: Mapping[str, str]) -> WebhookAck | None:
        """The URL check: a signed GET with ``echostr`` is answered with the echostr."""
        echostr = webhooks.query(headers, "echostr")
        if not echostr or not webhooks.verify(headers, self.push_token):
            return None
        return WebhookAck(body=echostr, content_type="text/plain; charset=utf-8")

    def webhook_info(self, headers: Mapping[str, str], body: bytes) -> WebhookInfo:
        return webhooks.info(body, aes_key=self.aes_key, appid=self.appid)

    def webhook_ack(self) -> WebhookAck:
        return webhooks.ACK

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> list[Record]:
        """Fetch the order the push names and map it (an unpaid order gives nothing)."""
        oid = webhooks.order_id(webhooks.parse(body, aes_key=self.aes_key, appid=self.appid))
        if oid is None:
            return []
        order = shipping.get_order(self.client, oid)
        record = map_order(order, **self._store())
        return [record] if record is not None else []

    def _store(self) -> dict[str, Any]:
        return {"store_id": self.appid or None, "store_name": self.config.get("store_name")}

    # ------------------------------------------------------------------ ship (W8)
    def carriers(self) -> list[Carrier]:
        return shipping.carriers(self.client)

    def ship(self, shipment: Shipment) -> ShipResult:
        return shipping.ship(self.client, shipment, self._store())

    def freight_templates(self) -> list[dict[str, Any]]:
        return shipping.freight_templates(self.client)
