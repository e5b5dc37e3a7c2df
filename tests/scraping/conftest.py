"""A local site over real sockets on 127.0.0.1 that serves good, odd and hostile pages."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from typing import Any

import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linkarchive.config.settings import FetchSettings
from linkarchive.scraping.fetch import Fetcher
from linkarchive.scraping.politeness import TokenBucketLimiter
from tests.scraping import pages

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81"
       b"\x84\x00\x00\x00\x00IEND\xaeB`\x82")
HUGE_SIZE = 20 * 1024 * 1024
BOMB_SIZE = 64 * 1024 * 1024


@dataclass
class Site:
    """The running site: its base URL and what its handlers observed."""

    url: str
    hits: dict[str, int] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)


def settings(**overrides: Any) -> FetchSettings:
    values: dict[str, Any] = dict(fetch_allow_hosts=("127.0.0.1",), fetch_timeout=5.0,
                                  fetch_max_bytes=5 * 1024 * 1024, image_max_bytes=1024 * 1024,
                                  fetch_max_redirects=5, fetch_host_rate=2.0, fetch_host_burst=4,
                                  user_agent="linkarchive-tests/1.0")
    values.update(overrides)
    return FetchSettings(**values)


def _build_app(site: Site, elsewhere: str) -> web.Application:
    routes = web.RouteTableDef()

    @web.middleware
    async def count(request: web.Request, handler):  # type: ignore[no-untyped-def]
        site.hits[request.path] = site.hits.get(request.path, 0) + 1
        site.events.setdefault("user_agents", []).append(request.headers.get("User-Agent"))
        return await handler(request)

    for path, text in {"/og": pages.OPEN_GRAPH, "/twitter": pages.TWITTER, "/jsonld": pages.JSONLD,
                       "/graph": pages.JSONLD_GRAPH, "/microdata": pages.MICRODATA,
                       "/plain": pages.PLAIN, "/relative": pages.RELATIVE,
                       "/video": pages.VIDEO}.items():
        routes.get(path)(_static(text))

    korean = pages.KOREAN.encode("cp949")

    @routes.get("/korean/header")
    async def korean_header(request: web.Request) -> web.Response:
        # The header wins, and the meta tag is gone: only the header says EUC-KR.
        body = korean.replace(b'<meta charset="euc-kr">', b"")
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=EUC-KR"})

    @routes.get("/korean/meta")
    async def korean_meta(request: web.Request) -> web.Response:
        return web.Response(body=korean, headers={"Content-Type": "text/html"})

    @routes.get("/korean/bare")
    async def korean_bare(request: web.Request) -> web.Response:
        body = korean.replace(b'<meta charset="euc-kr">', b"")
        return web.Response(body=body, headers={"Content-Type": "text/html"})

    @routes.get("/photo.png")
    async def photo(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    @routes.get("/huge")
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        await response.prepare(request)
        sent, outcome = 0, "aborted"
        try:
            head = (pages.OPEN_GRAPH.split("<body>")[0] + "<body>").encode()
            await response.write(head)
            sent += len(head)
            chunk = b"<p>" + b"filler text " * 5000 + b"</p>\n"
            while sent < HUGE_SIZE:
                await response.write(chunk)
                sent += len(chunk)
            await response.write_eof()
            outcome = "completed"
        except (ConnectionError, RuntimeError):
            pass
        finally:
            site.events["huge"] = (outcome, sent)
        return response

    @routes.get("/drip")
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        try:
            await response.write(b"<html><head>")
            for _ in range(300):  # a byte every 0.1 s: no read timeout ever fires
                await anyio.sleep(0.1)
                await response.write(b" ")
        except (ConnectionError, RuntimeError):
            pass
        return response

    @routes.get("/loop/a")
    async def loop_a(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop/b")

    @routes.get("/loop/b")
    async def loop_b(request: web.Request) -> web.Response:
        raise web.HTTPFound(site.url + "/loop/a")

    @routes.get("/chain/{n}")
    async def chain(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(f"/chain/{int(request.match_info['n']) + 1}")

    @routes.get("/hop")
    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/og")

    @routes.get("/to/{where}")
    async def to(request: web.Request) -> web.Response:
        targets = {"private": "http://10.0.0.1/admin", "metadata": "http://169.254.169.254/latest/",
                   "loopback": elsewhere + "/secret", "file": "file:///etc/passwd",
                   "metadata-name": "http://metadata.google.internal/computeMetadata/v1/"}
        raise web.HTTPFound(targets[request.match_info["where"]])

    @routes.get("/bad-redirect")
    async def bad_redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://[not-a-host"})

    @routes.get("/bomb")
    async def bomb(request: web.Request) -> web.Response:
        body = _gzip_bomb()
        site.events["bomb_wire_bytes"] = len(body)
        return web.Response(body=body, headers={"Content-Type": "text/html",
                                                "Content-Encoding": "gzip"})

    @routes.get("/small.gz")
    async def small_gz(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(pages.OPEN_GRAPH.encode()),
                            headers={"Content-Type": "text/html; charset=utf-8",
                                     "Content-Encoding": "gzip"})

    @routes.get("/binary")
    async def binary(request: web.Request) -> web.Response:
        return web.Response(body=PNG * 50, headers={"Content-Type": "text/html"})

    @routes.get("/busy")
    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=429, text="slow down", headers={"Retry-After": "7"})

    @routes.get("/down")
    async def down(request: web.Request) -> web.Response:
        later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
        return web.Response(status=503, text="maintenance", headers={"Retry-After": later})

    @routes.get("/broken")
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="oops")

    @routes.get("/challenge")
    async def challenge(request: web.Request) -> web.Response:
        return web.Response(status=403, text=pages.CHALLENGE, content_type="text/html")

    app = web.Application(middlewares=[count])
    app.add_routes(routes)
    return app


def _static(text: str):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="text/html")

    return handler


@cache
def _gzip_bomb() -> bytes:
    """A gzip stream of a page that never ends its head: small on the wire, 64 MiB inflated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = packer.compress(b"<html><head><title>Bomb</title>")
    block = b" " * (1024 * 1024)
    for _ in range(BOMB_SIZE // len(block)):
        body += packer.compress(block)
    return body + packer.flush()


@pytest.fixture
async def elsewhere() -> AsyncIterator[Site]:
    """A second site on 127.0.0.2, which the fetcher's settings do not allow."""
    other = Site(url="")
    app = web.Application()

    async def secret(request: web.Request) -> web.Response:
        other.hits[request.path] = other.hits.get(request.path, 0) + 1
        return web.Response(text="internal")

    app.router.add_get("/secret", secret)
    async with TestServer(app, host="127.0.0.2") as server:
        other.url = f"http://127.0.0.2:{server.port}"
        yield other


@pytest.fixture
async def site(elsewhere: Site) -> AsyncIterator[Site]:
    running = Site(url="")
    async with TestServer(_build_app(running, elsewhere.url), host="127.0.0.1") as server:
        running.url = f"http://127.0.0.1:{server.port}"
        yield running


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(settings(), limiter=TokenBucketLimiter(rate=1000, burst=1000)) as f:
        yield f
