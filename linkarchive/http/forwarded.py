"""The client's address behind trusted reverse proxies, from ``X-Forwarded-For``.

Only a peer inside ``LINKARCHIVE_TRUSTED_PROXIES`` may say who the client is; the address
used is the rightmost one in the header that is not itself a trusted proxy, so a client
cannot pick its own address by sending the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

__all__ = ["forwarded_middleware"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def forwarded_middleware(*, trusted: Iterable[str]) -> Middleware:
    """Replace ``request.remote`` with the forwarded client address when a trusted proxy
    sent the request; install first, before anything that reads ``remote``."""
    networks: tuple[Network, ...] = tuple(ipaddress.ip_network(t, strict=False) for t in trusted)

    def is_trusted(text: str | None) -> bool:
        address = _address(text) if text else None
        return address is not None and any(address in network for network in networks)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if networks and is_trusted(request.remote):
            hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
            client = next((hop for hop in reversed(hops)
                           if _address(hop) is not None and not is_trusted(hop)), None)
            if client is not None:
                request = request.clone(remote=client)
        return await handler(request)

    return middleware
