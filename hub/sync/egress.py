"""Where the hub may connect to reach a platform: https on public addresses only, unless
``HUB_ALLOW_PRIVATE_PLATFORMS=true`` (the demo and the tests, whose sandboxes run on 127.0.0.1).

A bind setting such as Youzan's ``api_base`` is chosen by a workspace admin or an API token, so
it must not reach the hub's own network. The check is made when a connection is opened, on the
address actually connected to: ``GuardedAdapter``'s connection pools resolve the host once,
refuse it if any of its addresses is not public, and connect to a vetted address while the
Host header, TLS SNI and certificate check keep the host name. A name that resolves to a
public address when checked and to 127.0.0.1 when connected (DNS rebinding) therefore never
reaches 127.0.0.1, and every connection, including one a redirect would open, is checked.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any, ClassVar
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from hub.core.errors import ConfigError

IPAddress = IPv4Address | IPv6Address
Resolver = Callable[[str, int], list[str]]

_SHARED = ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ip_network("64:ff9b::/96")  # IPv4 addresses translated by a NAT64 gateway


class EgressRefused(ConfigError):
    """The hub refused to connect there: not an https URL on a public address."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system gives for ``host`` (socket.gaierror if none)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one in any form the system would connect to
    (``127.0.0.1``, ``::1``, and the legacy ``2130706433``, ``0x7f.1``, ``0177.0.0.1``)."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    try:
        return IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def refusal_reason(ip: IPAddress) -> str | None:
    """Why the hub does not connect to ``ip``, or None for a public address."""
    if isinstance(ip, IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or _nat64(ip)
        if embedded is not None:
            return refusal_reason(embedded)
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip in _SHARED, "a shared (carrier-grade NAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-case, without the scheme's default port."""
    parts = urlsplit(url.strip())
    scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def same_base(url: str, other: str) -> bool:
    """The same origin and the same path (case and a trailing slash aside): ``url`` reaches
    exactly the API that ``other`` names."""
    path = urlsplit(url.strip()).path.strip("/").lower()
    return origin_of(url) == origin_of(other) and path == urlsplit(other).path.strip("/").lower()


def resolved_ip(text: str) -> IPAddress:
    """An address a resolver gave, an IPv6 zone (``fe80::1%eth0``) aside."""
    return ip_address(text.split("%", 1)[0])


def _nat64(ip: IPv6Address) -> IPv4Address | None:
    return IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None


@dataclass(frozen=True)
class EgressPolicy:
    """``allow_private`` lifts every check. ``resolver`` and ``refuse`` are seams for tests
    (a name that resolves to 127.0.0.1; a local server standing in for a public one)."""

    allow_private: bool = False
    resolver: Resolver = system_resolver
    refuse: Callable[[IPAddress], str | None] = refusal_reason
    # what a refusal of an address that is not public adds: the rule (and how to lift it)
    public_only: ClassVar[str] = "; the hub connects to platforms on public addresses only"

    def check_url(self, url: str) -> None:
        """Plain http is refused (secrets would cross the network in clear)."""
        if not self.allow_private and urlsplit(url).scheme != "https":
            host = urlsplit(url).hostname or url
            raise EgressRefused(f"{host}: the hub reaches platforms over https only")

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address of ``host``, each checked: EgressRefused names the first that is not
        public. A literal address is taken as it is; a name is resolved once."""
        literal = literal_address(host)
        found = [literal] if literal else [resolved_ip(a) for a in self.resolver(host, port)]
        if self.allow_private:
            return found
        for ip in found:
            reason = self.refuse(ip)
            if reason:
                shown = str(ip) if literal else f"{host} ({ip})"
                raise EgressRefused(f"{shown} is {reason}{self.public_only}")
        return found


def policy_for(config: Mapping[str, Any], **seams: Any) -> EgressPolicy:
    """The policy of an app's configuration (``ALLOW_PRIVATE_PLATFORMS``)."""
    return EgressPolicy(allow_private=bool(config.get("ALLOW_PRIVATE_PLATFORMS")), **seams)


class _Pinned:
    """Mixed into urllib3's connection classes: connect only to vetted addresses."""

    policy: EgressPolicy
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        try:
            addresses = self.policy.addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        error: OSError | None = None
        for ip in addresses:
            try:
                return create_connection(
                    (str(ip), self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                message = f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                raise ConnectTimeoutError(self, message) from exc
            except OSError as exc:
                error = exc
        message = f"Failed to establish a new connection: {error}"
        raise NewConnectionError(self, message) from error  # type: ignore[arg-type]


def _pool_classes(policy: EgressPolicy) -> dict[str, type[HTTPConnectionPool]]:
    def pinned(pool: type[HTTPConnectionPool], conn: type) -> type[HTTPConnectionPool]:
        cls = type(f"Pinned{conn.__name__}", (_Pinned, conn), {"policy": policy})
        return type(f"Pinned{pool.__name__}", (pool,), {"ConnectionCls": cls})

    return {
        "http": pinned(HTTPConnectionPool, HTTPConnection),
        "https": pinned(HTTPSConnectionPool, HTTPSConnection),
    }


class GuardedAdapter(HTTPAdapter):
    """A requests transport whose every connection goes through ``policy``."""

    def __init__(self, policy: EgressPolicy, **kwargs: Any) -> None:
        self.policy = policy  # before HTTPAdapter.__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.policy.check_url(request.url)
        if select_proxy(request.url, kwargs.get("proxies")):
            # The proxy connects, not the hub: check the name as well as can be done here.
            parts = urlsplit(request.url)
            self.policy.addresses(parts.hostname or "", parts.port or 443)
        return super().send(request, **kwargs)


def guard(session: Any, policy: EgressPolicy) -> None:
    """Route every request of a requests ``session`` through ``policy``."""
    if policy.allow_private:
        return
    adapter = GuardedAdapter(policy)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
