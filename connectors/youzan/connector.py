"""The Youzan connector (Y1–Y10): bind with client_id / client_secret / kdt_id, pull orders,
take pushes. It never touches the database: the engine and the webhook inbox apply its records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from connectors.youzan import shipping, webhooks
from connectors.youzan.client import DEFAULT_BASE, YouzanApiError, YouzanClient
from connectors.youzan.mapping import PLATFORM, SALES_CHANNEL, ciphertexts, map_trade
from connectors.youzan.pii import Decryptor
from connectors.youzan.streams import TradesStream, refunds_of
from hub.connectors import (
    BindInfo,
    Carrier,
    Connector,
    Shipment,
    ShipResult,
    Stream,
    WebhookAck,
    WebhookInfo,
    resolve_carrier,
)
from hub.core.errors import N_, HubError, PermissionDenied, ValidationFailed
from hub.core.records import OrderRecord, Record
from hub.sync.egress import origin_of, same_base
from hub.sync.http import platform_text

TOKEN_KEYS = ("access_token", "token_expires", "token_issued")


# What a store whose app was granted only part of the API does without (4204), by API.
_NO_DECRYPT = N_(
    "Youzan refused to decrypt buyers' names, phones and addresses (the app has no permission "
    "for youzan.cloud.secret.decrypt): orders are synced without them"
)
REFUSED = {
    "youzan.shop.get": N_(
        "Youzan refused to tell the store's name (the app has no permission for "
        "youzan.shop.get): the store is named after its id"
    ),
    "youzan.cloud.secret.decrypt.batch": _NO_DECRYPT,
    "youzan.cloud.secret.decrypt.single": _NO_DECRYPT,
}


class YouzanSettings(Schema):
    """Bind form: the app's credentials, the store (kdt_id = grant_id) and sync options."""

    client_id = fields.String(
        required=True, validate=validate.Length(min=1, max=100), metadata={"label": "Client ID"}
    )
    client_secret = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"label": "Client secret", "secret": True},
    )
    kdt_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{1,20}$"),
        metadata={"label": "Store ID (kdt_id)"},
    )
    api_base = fields.URL(
        load_default=DEFAULT_BASE,
        require_tld=False,
        validate=validate.Length(max=150),
        metadata={"label": "API base URL", "platform_base": True},
    )
    initial_days = fields.Integer(
        load_default=365,
        validate=validate.Range(min=1, max=3650),
        metadata={"label": "First sync: days back"},
    )
    sender_mobile = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^1\d{10}$"),
        metadata={"label": "Sender mobile (needed to ship with SF Express)"},
    )
    backoff_seconds = fields.Float(
        load_default=3.0,
        validate=validate.Range(min=0, max=60),
        metadata={"label": "First wait after throttling (4101)"},
    )


class YouzanConnector(Connector):
    platform = PLATFORM
    display_name = "Youzan"
    settings_schema = YouzanSettings
    capabilities = frozenset({"pull", "push", "ship"})
    carrier_aliases = shipping.ALIASES  # short codes (SF, ZTO...) for Youzan's carrier ids
    sales_channel = SALES_CHANNEL
    sandbox_module = "connectors.youzan.sandbox"
    webhook_setup = N_(
        "In the Youzan Cloud console (console.youzanyun.com), open your app, then Push "
        "(消息推送): paste this address as the push URL, tick the trade messages (交易消息) "
        "and save. Youzan signs each push with the app's client secret; the hub checks it."
    )

    def __init__(self, config: Mapping[str, Any], context: Any) -> None:
        super().__init__(config, context)
        http = context.http
        if hasattr(http, "backoff_base"):
            http.backoff_base = float(self.config.get("backoff_seconds", 3.0))
        tokens = {**self.config, **(context.credentials or {})}
        self._carriers: list[Carrier] | None = None
        self.client = YouzanClient(
            http=http,
            client_id=str(self.config.get("client_id") or ""),
            client_secret=str(tokens.get("client_secret") or ""),
            grant_id=str(self.config.get("kdt_id") or ""),
            api_base=str(self.config.get("api_base") or DEFAULT_BASE),
            token_state={k: tokens[k] for k in TOKEN_KEYS if k in tokens},
            save=context.save_credentials,
        )

    @classmethod
    def secret_fields(cls) -> set[str]:
        return {"client_secret"}  # fixed: skips building the schema on every push

    @property
    def store_id(self) -> str:
        return str(self.config.get("kdt_id") or "")

    def check(self) -> BindInfo:
        """Take a token (proves client_id, client_secret and kdt_id) and read the store name."""
        self.client.fetch_token(refresh=False)
        origin = self._claim_origin()
        name = f"Youzan store {self.store_id}"
        try:
            shop = self.client.call("youzan.shop.get", "3.0.0", {}) or {}
            name = shop.get("name") or name
        except (YouzanApiError, PermissionDenied):  # a nicety: the token proved the binding
            pass
        expires = self.client.expires_at
        return BindInfo(self.store_id, name, expires, origin, warnings=self.warnings())

    def warnings(self) -> list[str]:
        """The calls Youzan refused for lack of permission that the connector did without."""
        return list(dict.fromkeys(REFUSED[a] for a in sorted(self.client.refused) if a in REFUSED))

    def _claim_origin(self) -> str | None:
        """None when Youzan vouches for the store: the official API base, whose token answer's
        authority_id is this kdt_id (else the bind is refused). Any other base (a sandbox, a
        server of one's own) gives its origin, under which the claim is kept apart."""
        official = self.context.official_bases.get(self.platform, DEFAULT_BASE)
        if not same_base(self.client.api_base, official):
            return origin_of(self.client.api_base)
        if self.client.authority_id != self.store_id:
            authority = platform_text(self.client.authority_id or "(none)")
            raise ValidationFailed(
                f"kdt_id: Youzan's token answer is for store {authority} (authority_id), "
                f"not for store {self.store_id}",
                field="kdt_id",
            )
        return None

    def streams(self) -> list[Stream]:
        return [
            TradesStream(
                self.client, store_id=self.store_id, store_name=self.config.get("store_name")
            )
        ]

    # ------------------------------------------------------------------ pushes
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.verify(headers, body, self.client.client_id, self.client.client_secret)

    def webhook_info(self, headers: Mapping[str, str], body: bytes) -> WebhookInfo:
        return webhooks.info(headers, body)

    def webhook_ack(self) -> WebhookAck:
        return webhooks.ACK

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> list[Record]:
        """Fetch the trade the push names and map it; a lagging query API is retried."""
        message = webhooks.parse(body)
        tid = webhooks.trade_id(message)
        if tid is None:
            return []
        record = self._map(webhooks.fetch_trade(self.client, tid))
        if record is None:
            return []
        webhooks.check_not_lagging(message, record.version)
        return [record]

    def _map(self, data: Mapping[str, Any]) -> OrderRecord | None:
        """A ``youzan.trade.get`` answer as an order record (refunds and PII read as needed)."""
        info = data.get("full_order_info") or {}
        order_info = info.get("order_info") or {}
        tid = str(order_info.get("tid") or "")
        refunds = refunds_of(self.client, tid) if tid and order_info.get("refund_state") else []
        pii = Decryptor(self.client)
        pii.prefetch(ciphertexts([info]))
        return map_trade(info, refunds=refunds, plain=pii.plain, store_id=self.store_id)

    # ------------------------------------------------------------------ shipping (W8)
    def carriers(self) -> list[Carrier]:
        if self._carriers is None:
            self._carriers = shipping.carriers(self.client)
        return list(self._carriers)

    def ship(self, shipment: Shipment) -> ShipResult:
        """Read the trade, refuse what Youzan would, send the unshipped lines, read it again."""
        tid = shipment.order_external_id
        shipping.check_waybill(shipment.waybill)
        todo, skipped = shipping.unshipped_lines(tid, webhooks.fetch_trade(self.client, tid))
        carrier = resolve_carrier(shipment.carrier, self.carriers(), shipping.ALIASES)
        sender = self.config.get("sender_mobile")
        shipping.confirm(self.client, tid, todo, carrier, shipment.waybill, sender=sender)
        try:
            order = self._map(webhooks.fetch_trade(self.client, tid))
        except HubError:  # shipped all the same: the next sync or push brings the order
            order = None
        return ShipResult(shipped_lines=todo, skipped_lines=skipped, order=order)
