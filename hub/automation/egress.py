"""The egress rule of outbound webhooks (A1): ``hub.sync.egress``'s checks and pinned
connections, with http allowed and a refusal that names HUB_WEBHOOK_ALLOW_PRIVATE."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from hub.sync.egress import EgressPolicy, EgressRefused

SCHEMES = ("http", "https")

__all__ = ["EgressRefused", "WebhookPolicy"]


class WebhookPolicy(EgressPolicy):
    """The egress rule of outbound webhooks: http and https alike (a receiver chooses), on
    public addresses unless HUB_WEBHOOK_ALLOW_PRIVATE=true; the refusal says so."""

    public_only: ClassVar[str] = (
        ": webhook targets must be public addresses "
        "(set HUB_WEBHOOK_ALLOW_PRIVATE=true to allow loopback and private ones)"
    )

    def check_url(self, url: str) -> None:
        if urlsplit(url).scheme.lower() not in SCHEMES:
            raise EgressRefused(f"{url}: webhooks are sent over http or https only")
