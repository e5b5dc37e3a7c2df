"""A small local website for pipeline tests: articles with pictures, a Korean page, failures.

Pages are generated from their number, so a test can ask for hundreds of distinct links.
"""

from __future__ import annotations

import io
from collections import Counter

from aiohttp import web
from PIL import Image

__all__ = ["Site", "make_jpeg"]


def make_jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Example Site</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Example Site">
<meta property="og:description" content="All about {topic}, explained with care.">
<meta property="og:image" content="{image}">
<meta name="keywords" content="{topic}, cooking, recipes">
<meta property="article:published_time" content="2024-03-0{day}T10:00:00Z">
</head><body><h1>{title}</h1><p>A long article about {topic}.</p></body></html>"""

KOREAN = """<!doctype html><html lang="ko"><head><meta charset="utf-8">
<title>김치찌개 맛있게 끓이는 법</title>
<meta property="og:title" content="김치찌개 맛있게 끓이는 법">
<meta property="og:description" content="묵은지로 만드는 김치찌개 레시피입니다.">
<meta name="keywords" content="김치찌개, 요리, 레시피">
<meta property="og:image" content="/img/kimchi.jpg">
</head><body><p>김치찌개를 끓여 봅시다.</p></body></html>"""


class Site:
    """Routes: /article/{n} (picture /img/{n % 7}.jpg), /korean, /broken-image, /gone (404),
    /busy (503 with Retry-After: 0), /img/{name}.jpg; ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.app = web.Application(middlewares=[self._count])
        self.app.router.add_get("/article/{n}", self.article)
        self.app.router.add_get("/korean", self.korean)
        self.app.router.add_get("/broken-image", self.broken_image)
        self.app.router.add_get("/gone", self.gone)
        self.app.router.add_get("/busy", self.busy)
        self.app.router.add_get("/img/{name}.jpg", self.image)

    @web.middleware
    async def _count(self, request: web.Request, handler):
        self.hits[request.path] += 1
        return await handler(request)

    async def article(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        topics = ("python", "kimchi", "gardening", "databases", "cycling")
        html = ARTICLE.format(title=f"Article number {n}", topic=topics[n % len(topics)],
                              image=f"/img/{n % 7}.jpg", day=1 + n % 9)
        return web.Response(text=html, content_type="text/html")

    async def korean(self, request: web.Request) -> web.Response:
        return web.Response(text=KOREAN, content_type="text/html")

    async def broken_image(self, request: web.Request) -> web.Response:
        html = ARTICLE.format(title="Picture gone", topic="loss", image="/img/missing.jpg", day=2)
        return web.Response(text=html, content_type="text/html")

    async def gone(self, request: web.Request) -> web.Response:
        return web.Response(status=404, text="not here")

    async def busy(self, request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "0"}, text="busy")

    async def image(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "missing":
            raise web.HTTPNotFound()
        if name == "kimchi":
            body = make_jpeg(800, 600, (200, 40, 30))
        else:
            shade = 30 * int(name) % 255
            body = make_jpeg(1200, 900, (shade, 120, 255 - shade))
        return web.Response(body=body, content_type="image/jpeg")


class SiteThread:
    """Serve a Site from a background thread, for tests whose peer is another process."""

    def __init__(self, site: Site) -> None:
        import asyncio
        import threading

        self.site = site
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner = web.AppRunner(site.app, access_log=None)
        self.base = ""

    def __enter__(self) -> SiteThread:
        import asyncio

        self._thread.start()

        async def start() -> str:
            await self._runner.setup()
            tcp = web.TCPSite(self._runner, "127.0.0.1", 0)
            await tcp.start()
            port = self._runner.addresses[0][1]
            return f"http://127.0.0.1:{port}"

        self.base = asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
