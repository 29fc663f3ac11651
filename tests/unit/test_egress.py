"""Egress (issue 20, SSRF): the shared HttpClient reaches platforms only on public https
addresses, checked on the address actually connected to, never follows redirects, and tells
what a platform answered only summarised. Against real local servers: a TCP recorder that
keeps whatever reaches it, and an https server with a certificate for a host name."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from ipaddress import IPv4Address, ip_address
from pathlib import Path

import pytest
import requests

from hub.core.errors import ConfigError, TransientError
from hub.sync.egress import (
    EgressPolicy,
    EgressRefused,
    guard,
    literal_address,
    origin_of,
    refusal_reason,
    same_base,
)
from hub.sync.http import INTERACTIVE, HttpClient, platform_text
from tests.support.listeners import Recorder, ScriptedServer, certificate

PUBLIC_STAND_IN = IPv4Address("127.0.0.2")  # plays a public platform in the tests below


def stand_in_policy(resolver) -> EgressPolicy:
    """The real checks, except that 127.0.0.2 counts as public (no test reaches the Internet)."""
    return EgressPolicy(
        resolver=resolver,
        refuse=lambda ip: None if ip == PUBLIC_STAND_IN else refusal_reason(ip),
    )


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    running = Recorder("127.0.0.1")
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),  # cloud metadata
        ("fe80::1", "a link-local address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a private address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104
        ("::", "an unspecified address"),
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped IPv6
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:7f00:1::", "a loopback address"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "a link-local address"),  # NAT64 of 169.254.169.254
        ("192.0.2.1", "a private address"),  # documentation
        ("198.18.0.1", "a private address"),  # benchmarking
    ],
)
def test_non_public_addresses_are_refused_with_the_reason(address, reason):
    assert refusal_reason(ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert refusal_reason(ip_address(address)) is None


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "0x7f000001", "127.0.0.1"]
)
def test_every_numeric_form_of_loopback_is_read_as_the_address_it_connects_to(host):
    assert literal_address(host) == IPv4Address("127.0.0.1")


def test_names_are_not_literals():
    assert literal_address("open.youzanyun.com") is None
    assert literal_address("localhost") is None


def test_origin_of_is_lower_case_without_the_default_port():
    assert origin_of("HTTPS://Open.YouzanYun.com:443/x?y=1") == "https://open.youzanyun.com"
    assert origin_of("http://127.0.0.1:5001/") == "http://127.0.0.1:5001"
    assert origin_of("https://[::1]:8443") == "https://[::1]:8443"


def test_same_base_is_the_same_origin_and_path():
    official = "https://open.youzanyun.com"
    assert same_base("HTTPS://Open.YouzanYun.com:443/", official)
    assert not same_base("https://open.youzanyun.com/proxy", official)
    assert not same_base("https://open.youzanyun.com.example", official)
    assert not same_base("http://open.youzanyun.com", official)
    assert not same_base("https://open.youzanyun.com:8443", official)


def guarded(policy: EgressPolicy | None = None, **kwargs) -> HttpClient:
    return HttpClient(egress=policy or EgressPolicy(), session=requests.Session(), **kwargs)


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("localhost", "localhost (127.0.0.1) is a loopback address"),
        ("2130706433", "127.0.0.1 is a loopback address"),
        ("0x7f.1", "127.0.0.1 is a loopback address"),
        ("0177.0.0.1", "127.0.0.1 is a loopback address"),
        ("0", "0.0.0.0 is an unspecified address"),
    ],
)
def test_loopback_in_any_spelling_is_refused_before_connecting(recorder, host, shown):
    http = guarded()
    with pytest.raises(EgressRefused, match="^" + re.escape(f"{shown}; the hub connects to")):
        http.post(f"https://{host}:{recorder.port}/auth/token", json={"client_secret": "s3"})
    assert http.calls == 1  # refused at once: a configuration error is not retried
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_ipv6_loopback_is_refused_before_connecting():
    recorder = Recorder("::1")
    try:
        with pytest.raises(EgressRefused, match=r"^::1 is a loopback address"):
            guarded().post(f"https://[::1]:{recorder.port}/auth/token", json={"secret": "s3"})
        with pytest.raises(EgressRefused, match=r"^::ffff:7f00:1 is a loopback address"):
            guarded().post(f"https://[::ffff:7f00:1]:{recorder.port}/x", json={"secret": "s3"})
    finally:
        recorder.stop()
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_a_name_resolving_to_loopback_is_refused(recorder):
    resolved: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        resolved.append((host, port))
        return ["93.184.215.14", "127.0.0.1"]  # one bad address is enough to refuse

    http = guarded(EgressPolicy(resolver=resolver))
    with pytest.raises(EgressRefused, match=r"^shop.example \(127.0.0.1\) is a loopback"):
        http.post(f"https://shop.example:{recorder.port}/auth/token", json={"secret": "s3"})
    assert resolved == [("shop.example", recorder.port)]
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_plain_http_is_refused_without_the_flag(recorder):
    with pytest.raises(EgressRefused, match="the hub reaches platforms over https only"):
        guarded(stand_in_policy(lambda _h, _p: ["127.0.0.2"])).post(
            f"http://shop.example:{recorder.port}/auth/token", json={"secret": "s3"}
        )
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return certificate(tmp_path, "platform.test")


def test_the_vetted_address_is_the_one_connected_to_with_host_and_sni_kept(cert):
    """DNS rebinding: the name resolves to a public address, then to loopback. The first
    connection goes to the address that was checked, with the name in Host and SNI and its
    certificate verified; the next connection resolves again and is refused."""
    server = ScriptedServer("127.0.0.2", cert)
    recorder = Recorder("127.0.0.1", server.port)
    answers = iter([["127.0.0.2"], ["127.0.0.1"]])
    http = guarded(stand_in_policy(lambda _host, _port: next(answers)))
    http.session.verify = str(cert[0])
    url = f"https://platform.test:{server.port}/api"
    try:
        assert http.get(url).status_code == 200
        with pytest.raises(EgressRefused, match=r"^platform.test \(127.0.0.1\) is a loopback"):
            http.get(url)  # the server closed the connection: a new one is checked again
    finally:
        server.stop()
        recorder.stop()
    assert server.requests == [("platform.test", f"platform.test:{server.port}", "/api")]
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_every_connection_a_redirect_opens_is_checked(cert, recorder):
    """A plain requests session routed through the guard follows a redirect to loopback:
    the hop is refused before it connects."""
    location = {"Location": f"https://127.0.0.1:{recorder.port}/steal"}
    server = ScriptedServer("127.0.0.2", cert, status=307, headers=location)
    session = requests.Session()
    guard(session, stand_in_policy(lambda _host, _port: ["127.0.0.2"]))
    try:
        with pytest.raises(EgressRefused, match=r"^127.0.0.1 is a loopback address"):
            session.post(f"https://platform.test:{server.port}/auth/token",
                         json={"client_secret": "s3"}, verify=str(cert[0]))  # fmt: skip
    finally:
        server.stop()
    assert server.requests == [("platform.test", f"platform.test:{server.port}", "/auth/token")]
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_the_client_never_follows_a_redirect_even_where_private_addresses_are_allowed(
    recorder,
):
    location = {"Location": f"http://127.0.0.1:{recorder.port}/steal"}
    server = ScriptedServer("127.0.0.1", status=307, headers=location)
    http = guarded(EgressPolicy(allow_private=True))
    try:
        with pytest.raises(ConfigError, match=r"answered a redirect \(HTTP 307\); the hub does"):
            http.post(f"{server.url}/auth/token", json={"client_secret": "s3"})
    finally:
        server.stop()
    assert http.calls == 1 and len(server.requests) == 1
    assert (recorder.connections, bytes(recorder.received)) == (0, b"")


def test_an_interactive_client_does_not_retry_a_refusing_port(unused_port):
    http = guarded(EgressPolicy(allow_private=True), **INTERACTIVE)
    started = time.monotonic()
    with pytest.raises(TransientError, match=f"^could not reach 127.0.0.1:{unused_port}: the"):
        http.post(f"http://127.0.0.1:{unused_port}/auth/token", json={})
    assert http.calls == 1 and http.waited == 0
    assert time.monotonic() - started < 2


def test_platform_text_is_one_short_printable_line():
    raw = "internal\r\nSet-Cookie: admin=1\x00\u202e" + "x" * 500
    text = platform_text(raw)
    assert text.startswith("internal Set-Cookie: admin=1 xxx") and text.endswith("…")
    assert len(text) == 80 and text.isprintable()
    assert platform_text("请求太频繁") == "请求太频繁"
