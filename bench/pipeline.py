"""The link pipeline against a local website: end-to-end links/s and save-to-completed latency,
next to a plain aiohttp + selectolax scrape loop in the same run as the baseline.

Run ``.venv/bin/python bench/pipeline.py [--links 500]``; prints a markdown table and writes it
to ``bench/results/pipeline.md``. Everything runs on 127.0.0.1 with the offline tagger.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import anyio
from aiohttp import web
from PIL import Image
from selectolax.lexbor import LexborHTMLParser

from linkarchive.config import load_settings
from linkarchive.engine.actors import open_pipeline
from linkarchive.engine.supervisor import Supervisor
from linkarchive.links.save import save_link
from linkarchive.services import open_services
from linkarchive.storage.repositories.users import create_user

RESULTS = Path(__file__).parent / "results" / "pipeline.md"
CONCURRENCY = 8

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{n} | Bench</title>
<meta property="og:title" content="Story {n}"><meta property="og:site_name" content="Bench">
<meta property="og:description" content="A story about topic {t} and more.">
<meta property="og:image" content="/img/{p}.jpg"><meta name="keywords" content="topic{t}, news">
</head><body><h1>Story {n}</h1>{body}</body></html>"""


def picture(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((1200, 800), 40 + n).convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def site(pictures_count: int) -> web.Application:
    pictures = {n: picture(n) for n in range(pictures_count)}
    filler = "<p>" + "Lorem ipsum dolor sit amet. " * 200 + "</p>"

    async def page(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(text=PAGE.format(n=n, t=n % 13, p=n % len(pictures), body=filler),
                            content_type="text/html")

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=pictures[int(request.match_info["n"])],
                            content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/story/{n}", page)
    app.router.add_get("/img/{n}.jpg", image)
    return app


async def baseline(base: str, count: int) -> float:
    """Pages/s of a bare fetch-and-parse loop: the ceiling for the scrape stage alone."""
    limiter = anyio.CapacityLimiter(CONCURRENCY)
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        async def one(n: int) -> None:
            async with limiter, session.get(f"{base}/story/{n}") as response:
                tree = LexborHTMLParser(await response.text())
                assert tree.css_first('meta[property="og:title"]') is not None

        async with anyio.create_task_group() as tg:
            for n in range(count):
                tg.start_soon(one, n)
    return count / (time.perf_counter() - started)


async def wait_completed(services, user_id: int, count: int, timeout: float) -> None:
    with anyio.fail_after(timeout):
        while True:
            async with services.database.read() as conn:
                done = await conn.fetchval(
                    "SELECT count(*) FROM links WHERE user_id = ? AND status IN "
                    "('completed', 'failed')", (user_id,))
            if done >= count:
                return
            await anyio.sleep(0.02)


async def pipeline_run(base: str, count: int, latency_samples: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(environ={
            "LINKARCHIVE_DATA_DIR": folder, "LINKARCHIVE_FETCH_ALLOW_HOSTS": "127.0.0.1",
            "LINKARCHIVE_FETCH_HOST_RATE": "100000", "LINKARCHIVE_FETCH_HOST_BURST": "1000",
            "LINKARCHIVE_SCRAPE_CONCURRENCY": str(CONCURRENCY)})
        async with open_services(settings) as services, open_pipeline(services) as specs:
            supervisor = Supervisor(services.mailbox, specs)
            async with services.database.write() as tx:
                bulk = await create_user(tx, "bulk@example.com", "x")
                single = await create_user(tx, "single@example.com", "x")
            async with anyio.create_task_group() as tg:
                await tg.start(supervisor.run)
                started = time.perf_counter()
                for n in range(count):
                    await save_link(services, bulk.id, f"{base}/story/{n}")
                saved = time.perf_counter()
                await wait_completed(services, bulk.id, count, timeout=600)
                finished = time.perf_counter()
                latencies = []
                for n in range(latency_samples):
                    began = time.perf_counter()
                    await save_link(services, single.id, f"{base}/story/{100_000 + n}")
                    await wait_completed(services, single.id, n + 1, timeout=60)
                    latencies.append(time.perf_counter() - began)
                supervisor.stop()
            async with services.database.read() as conn:
                failed = await conn.fetchval("SELECT count(*) FROM links WHERE status = 'failed'")
    latencies.sort()
    return {"links_per_s": count / (finished - started), "save_per_s": count / (saved - started),
            "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "failed": failed}


def cpu_name() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    return next((line.split(":", 1)[1].strip() for line in lines
                 if line.startswith("model name")), "unknown CPU")


async def main(count: int, samples: int, pictures: int) -> str:
    runner = web.AppRunner(site(pictures or count + samples), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        plain = await baseline(base, count)
        result = await pipeline_run(base, count, samples)
    finally:
        await runner.cleanup()
    return "\n".join([
        f"Pipeline benchmark: {count} links, "
        + (f"{pictures} 1200x800 pictures shared between them" if pictures
           else "a distinct 1200x800 picture each")
        + f", {CONCURRENCY} scrape actors, offline tagger, SQLite, local disk; "
        f"{os.cpu_count()} cores ({cpu_name()}).",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| baseline: plain aiohttp + selectolax fetch-and-parse (pages/s) | {plain:,.0f} |",
        f"| pipeline: save → scraped, thumbnailed (3 sizes), tagged, completed (links/s) "
        f"| {result['links_per_s']:,.1f} |",
        f"| save_link calls (links/s, while the engine works) | {result['save_per_s']:,.0f} |",
        f"| single link save → completed, idle engine, p50 (ms) | {result['p50']:,.0f} |",
        f"| single link save → completed, idle engine, p99 (ms) | {result['p99']:,.0f} |",
        f"| failed links | {result['failed']} |",
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--pictures", type=int, default=0,
                        help="distinct pictures shared by the links (0: one per link)")
    args = parser.parse_args()
    table = anyio.run(main, args.links, args.samples, args.pictures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table + "\n", encoding="utf-8")
    print(table)
