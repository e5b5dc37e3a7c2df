"""The client address behind trusted proxies."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from linkarchive.config import load_settings
from linkarchive.errors import ConfigError
from linkarchive.http.forwarded import forwarded_middleware

pytestmark = pytest.mark.anyio


async def remote(request: web.Request) -> web.Response:
    return web.Response(text=request.remote or "")


async def seen_as(trusted: tuple[str, ...], forwarded: str | None) -> str:
    app = web.Application(middlewares=[forwarded_middleware(trusted=trusted)])
    app.router.add_get("/", remote)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
        response = await client.get("/", headers=headers)
        return await response.text()


async def test_a_trusted_proxy_names_the_client() -> None:
    assert await seen_as(("127.0.0.0/8",), "203.0.113.5") == "203.0.113.5"


async def test_the_rightmost_untrusted_hop_wins_so_clients_cannot_choose() -> None:
    # The client sent "1.1.1.1" itself; the proxy appended the address it really saw.
    assert await seen_as(("127.0.0.0/8",), "1.1.1.1, 203.0.113.9, 127.0.0.7") == "203.0.113.9"


async def test_untrusted_peers_and_garbage_are_ignored() -> None:
    assert await seen_as(("10.0.0.0/8",), "203.0.113.5") == "127.0.0.1"
    assert await seen_as((), "203.0.113.5") == "127.0.0.1"
    assert await seen_as(("127.0.0.0/8",), "not-an-address") == "127.0.0.1"


def test_the_setting_takes_only_addresses_and_networks() -> None:
    settings = load_settings(environ={"LINKARCHIVE_TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    assert settings.server.trusted_proxies == ("10.0.0.0/8", "::1")
    with pytest.raises(ConfigError, match="not an address or CIDR block"):
        load_settings(environ={"LINKARCHIVE_TRUSTED_PROXIES": "proxy.internal"})
