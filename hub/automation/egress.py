"""The egress rule of outbound webhooks (A1): ``hub.sync.egress``'s checks and pinned
connections, with http allowed and a refusal that names HUB_WEBHOOK_ALLOW_PRIVATE."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from hub.sync.egress import EgressPolicy, EgressRefused, literal_address

SCHEMES = ("http", "https")

__all__ = ["EgressRefused", "WebhookPolicy"]


class WebhookPolicy(EgressPolicy):
    """The egress rule of outbound webhooks: http and https alike (a receiver chooses), on
    public addresses unless HUB_WEBHOOK_ALLOW_PRIVATE=true; the refusal says so."""

    def check_url(self, url: str) -> None:
        if urlsplit(url).scheme.lower() not in SCHEMES:
            raise EgressRefused(f"{url}: webhooks are sent over http or https only")

    def addresses(self, host: str, port: int) -> list[Any]:
        literal = literal_address(host)
        found = [literal] if literal else [_ip(a) for a in self.resolver(host, port)]
        if self.allow_private:
            return found
        for ip in found:
            reason = self.refuse(ip)
            if reason:
                shown = str(ip) if literal else f"{host} ({ip})"
                raise EgressRefused(
                    f"{shown} is {reason}: webhook targets must be public addresses "
                    "(set HUB_WEBHOOK_ALLOW_PRIVATE=true to allow loopback and private ones)"
                )
        return found


def _ip(text: str) -> Any:
    return ip_address(text.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) aside
