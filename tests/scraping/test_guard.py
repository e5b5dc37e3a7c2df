"""The SSRF guard: address classification, allow lists, and filtering after resolution."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from linkarchive.errors import BlockedAddress
from linkarchive.scraping import guard as guard_module
from linkarchive.scraping.guard import AddressGuard, GuardedResolver, address_block_reason

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "a loopback address"),
    ("10.1.2.3", "a private address"),
    ("172.16.5.4", "a private address"),
    ("192.168.0.1", "a private address"),
    ("169.254.169.254", "a cloud metadata address"),
    ("169.254.10.10", "a link-local address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("0.0.0.0", "an unspecified address"),
    ("224.0.0.251", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("168.63.129.16", "a cloud metadata address"),
    ("::1", "a loopback address"),
    ("::", "an unspecified address"),
    ("fe80::1", "a link-local address"),
    ("fc00::1", "a private address"),
    ("fd00:ec2::254", "a cloud metadata address"),
    ("ff02::1", "a multicast address"),
    ("fec0::1", "a site-local address"),
    ("::ffff:127.0.0.1", "a loopback address in IPv6 form"),
    ("::ffff:10.0.0.1", "a private address in IPv6 form"),
    ("::ffff:169.254.169.254", "a cloud metadata address in IPv6 form"),
    ("2002:7f00:1::", "a loopback address in IPv6 form"),
    ("64:ff9b::a00:1", "a private address in IPv6 form"),
])
def test_blocked_addresses(address: str, reason: str) -> None:
    assert address_block_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111",
                                     "::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808"])
def test_public_addresses(address: str) -> None:
    assert address_block_reason(ipaddress.ip_address(address)) is None


def test_allow_list_by_cidr_and_name() -> None:
    guard = AddressGuard(["10.0.0.0/8", "Intranet.Example."])
    guard.check_address("wiki", ipaddress.ip_address("10.20.30.40"))
    guard.check_address("intranet.example", ipaddress.ip_address("192.168.1.1"))
    with pytest.raises(BlockedAddress, match="refused to fetch wiki \\(192.168.1.1\\)"):
        guard.check_address("wiki", ipaddress.ip_address("192.168.1.1"))


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "::ffff:7f00:1", "169.254.169.254",
                                  "metadata.google.internal", "METADATA.GOOGLE.INTERNAL."])
def test_check_host_refuses_literals_and_metadata_names(host: str) -> None:
    with pytest.raises(BlockedAddress):
        AddressGuard().check_host(host)


def test_check_host_leaves_names_to_resolution() -> None:
    AddressGuard().check_host("example.com")
    AddressGuard(["127.0.0.1"]).check_host("127.0.0.1")


def _fake_dns(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    async def getaddrinfo(host, port, *, family=0, type=0):  # type: ignore[no-untyped-def]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in addresses]

    monkeypatch.setattr(guard_module.anyio, "getaddrinfo", getaddrinfo)


async def test_resolver_keeps_only_safe_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    # A rebinding-style answer mixing a public and a private address: only the public one is used.
    _fake_dns(monkeypatch, "93.184.216.34", "10.0.0.5", "::1")
    results = await GuardedResolver(AddressGuard()).resolve("rebind.example", 443)
    assert [(r["host"], r["port"], r["hostname"]) for r in results] == [
        ("93.184.216.34", 443, "rebind.example")]
    assert results[0]["flags"] & socket.AI_NUMERICHOST


async def test_resolver_refuses_when_nothing_safe_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, "10.0.0.5", "fd00::1")
    with pytest.raises(BlockedAddress, match=r"internal.example \(10.0.0.5\): a private address"):
        await GuardedResolver(AddressGuard()).resolve("internal.example", 80)


async def test_resolver_allows_listed_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, "10.0.0.5")
    results = await GuardedResolver(AddressGuard(["10.0.0.0/24"])).resolve("wiki.lan", 80)
    assert [r["host"] for r in results] == ["10.0.0.5"]


async def test_real_resolution_of_localhost_is_refused() -> None:
    with pytest.raises(BlockedAddress, match="loopback"):
        await AddressGuard().resolve("localhost", 80)
