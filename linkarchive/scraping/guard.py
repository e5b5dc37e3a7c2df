"""The SSRF guard: which addresses a fetch may connect to, enforced after DNS resolution.

``GuardedResolver`` is the resolver of the fetcher's connector, so every hop's name is resolved
here, unsafe addresses are dropped, and the connection goes to an address that was checked: there
is no second lookup for a rebinding DNS server to answer differently. IP literals never reach a
resolver in aiohttp, so the fetcher checks them with ``AddressGuard.check_host`` before each hop.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import anyio
from aiohttp.abc import AbstractResolver, ResolveResult

from linkarchive.errors import BlockedAddress, FetchError

__all__ = ["METADATA_ADDRESSES", "METADATA_HOSTS", "AddressGuard", "GuardedResolver",
           "address_block_reason"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata endpoints; some of them are public addresses, so ranges do not cover them.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.123", "168.63.129.16", "100.100.100.200",
    "fd00:ec2::254",
))
METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.com", "metadata.tencentyun.com",
})

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, NAT64), which is what it reaches."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_block_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be fetched (e.g. "a loopback address"), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_block_reason(embedded)
            return f"{inner} in IPv6 form" if inner else None
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in _SHARED, "a shared (carrier-grade NAT) address"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local,
         "a site-local address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for blocked, reason in checks if blocked), None)


def _parse_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


class AddressGuard:
    """Decides whether a host and the addresses it resolved to may be fetched."""

    def __init__(self, allow_hosts: Iterable[str] = ()) -> None:
        self._allowed_names: set[str] = set()
        self._allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow_hosts:
            entry = entry.strip().lower().rstrip(".")
            try:
                self._allowed_networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self._allowed_names.add(entry)

    def host_allowed(self, host: str) -> bool:
        """True when the configuration lets ``host`` through whatever it resolves to."""
        return host.lower().rstrip(".") in self._allowed_names

    def address_allowed(self, address: IPAddress) -> bool:
        """True when ``address`` is inside an allowed network."""
        return any(address in network for network in self._allowed_networks)

    def check_host(self, host: str) -> None:
        """Refuse metadata host names and unsafe IP literals; names are checked again once resolved."""
        name = host.lower().rstrip(".")
        if self.host_allowed(name):
            return
        address = _parse_address(name)
        if address is None:
            if name in METADATA_HOSTS:
                raise BlockedAddress(f"refused to fetch {host}: it is a cloud metadata host")
            return
        self.check_address(host, address)

    def check_address(self, host: str, address: IPAddress) -> None:
        """Raise BlockedAddress unless ``address`` (what ``host`` resolved to) is safe or allowed."""
        if self.host_allowed(host) or self.address_allowed(address):
            return
        reason = address_block_reason(address)
        if reason:
            target = str(address) if host.strip("[]") == str(address) else f"{host} ({address})"
            raise BlockedAddress(f"refused to fetch {target}: {reason}")

    async def resolve(self, host: str, port: int = 0, *, family: int = socket.AF_UNSPEC,
                      timeout: float = 5.0) -> list[tuple[int, IPAddress]]:
        """Resolve ``host`` and keep the safe addresses; raise BlockedAddress when none is left."""
        self.check_host(host)
        literal = _parse_address(host)
        if literal is not None:
            return [(socket.AF_INET6 if literal.version == 6 else socket.AF_INET, literal)]
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, family=family,
                                                type=socket.SOCK_STREAM)
        except TimeoutError:
            raise FetchError(f"DNS lookup of {host} timed out", transient=True) from None
        safe: list[tuple[int, IPAddress]] = []
        refusal: BlockedAddress | None = None
        for info_family, _type, _proto, _canon, sockaddr in infos:
            address = _parse_address(str(sockaddr[0]))
            if address is None:
                continue
            try:
                self.check_address(host, address)
            except BlockedAddress as exc:
                refusal = refusal or exc
                continue
            if (info_family, address) not in safe:
                safe.append((info_family, address))
        if not safe:
            raise refusal or FetchError(f"{host} has no usable address")
        return safe


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that only ever hands the connector addresses the guard accepted."""

    def __init__(self, guard: AddressGuard, *, timeout: float = 5.0) -> None:
        self._guard = guard
        self._timeout = timeout

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = await self._guard.resolve(host, port, family=family, timeout=self._timeout)
        return [ResolveResult(hostname=host, host=str(address), port=port, family=info_family,
                              proto=0, flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV)
                for info_family, address in addresses]

    async def close(self) -> None:
        """Nothing to release: lookups go through the event loop's resolver."""
