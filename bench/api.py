"""The HTTP API under load: save, list and search over a real socket, with 100,000 links.

Run ``.venv/bin/python bench/api.py``; prints a markdown table and writes it to
``bench/results/api.md``. A temporary data directory is seeded directly (the storage bench's
corpus: one user with ``--links`` links, ten others), then ``linkarchive api`` starts as a
separate process on a free port and this process drives it with ``--clients`` concurrent
HTTP clients, signed in as the big user. ``GET /healthz`` in the same run is the ceiling: the
same server and client doing no work. Client and server share the machine's CPUs.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import anyio

from linkarchive.http.passwords import Passwords
from linkarchive.storage.repositories import users
from linkarchive.storage.repositories.listing import encode_cursor
from linkarchive.storage.sqlite import SQLiteDatabase

sys.path.insert(0, str(Path(__file__).parent))
from storage import TAG, generate, seed_sqlite  # noqa: E402  (the sibling storage bench)

RESULTS = Path(__file__).parent / "results" / "api.md"
PASSWORD = "bench password 1234"
EMAIL = "user1@example.com"  # the seeded user with --links links
STARTUP_TIMEOUT = 60.0

Request = tuple[str, str, dict | None]  # method, path, JSON body


@dataclass(frozen=True)
class Row:
    name: str
    clients: int
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cursors(keys: list[tuple[float, str]], count: int = 2000) -> list[str]:
    """Keyset cursors spread evenly over a list ordered newest first."""
    keys = sorted(keys, reverse=True)
    step = max(1, len(keys) // count)
    return [encode_cursor(created, link_id) for created, link_id in keys[step::step]]


async def seed(folder: Path, links: int, other_links: int) -> tuple[list[str], list[str]]:
    """Seed the database; answer keyset cursors into the big user's list and into its TAG."""
    started = time.perf_counter()
    corpus = generate(links, other_links)
    async with SQLiteDatabase(f"sqlite:///{folder / 'linkarchive.db'}") as database:
        await database.migrate()
        await seed_sqlite(database, corpus)
        password_hash = await Passwords().hash(PASSWORD)
        async with database.write() as tx:
            await users.set_user_password(tx, 1, password_hash)
    print(f"seeded {len(corpus.links):,} links in {time.perf_counter() - started:.1f}s")
    tag_id = next(row[0] for row in corpus.tags if row[1] == 1 and row[2] == TAG)
    return (_cursors([(row[11], row[0]) for row in corpus.links if row[1] == 1]),
            _cursors([(row[4], row[0]) for row in corpus.link_tags if row[1] == tag_id]))


def start_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LINKARCHIVE_DATA_DIR": str(folder), "LINKARCHIVE_HOST": "127.0.0.1",
           "LINKARCHIVE_PORT": str(port), "LINKARCHIVE_RATE_LIMIT": "100000000",
           "LINKARCHIVE_LOG_LEVEL": "warning"}
    log = (folder / "server.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "linkarchive", "api"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)


async def wait_ready(session: aiohttp.ClientSession, base: str,
                     server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"linkarchive api exited with {server.returncode}")
        try:
            async with session.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await anyio.sleep(0.1)
    raise RuntimeError(f"linkarchive api did not become ready in {STARTUP_TIMEOUT:.0f}s")


async def drive(session: aiohttp.ClientSession, base: str, name: str, clients: int,
                requests: Iterator[Request], count: int) -> Row:
    """Send ``count`` requests from ``clients`` concurrent loops; a tenth more warm up first."""
    latencies: list[float] = []
    errors = 0

    async def one(method: str, path: str, body: dict | None) -> float:
        nonlocal errors
        started = time.perf_counter()
        async with session.request(method, base + path, json=body) as response:
            await response.read()
            if response.status >= 400:
                errors += 1
        return (time.perf_counter() - started) * 1000

    async def loop(remaining: list[int], sink: list[float] | None) -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            latency = await one(*next(requests))
            if sink is not None:
                sink.append(latency)

    async with anyio.create_task_group() as tg:
        warm = [max(clients, count // 10)]
        for _ in range(clients):
            tg.start_soon(loop, warm, None)
    errors = 0
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        remaining = [count]
        for _ in range(clients):
            tg.start_soon(loop, remaining, latencies)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Row(name, clients, count, count / elapsed, statistics.median(latencies), p99, errors)


def forever(make: Callable[[int], Request]) -> Iterator[Request]:
    n = 0
    while True:
        yield make(n)
        n += 1


def server_rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kib = next((int(line.split()[1]) for line in status.splitlines()
                if line.startswith("VmRSS:")), None)
    return None if kib is None else kib / 1024


async def measure(base: str, cursors: list[str], tag_cursors: list[str], clients: int,
                  scale: int) -> list[Row]:
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(f"{base}/api/v1/auth/login",
                                json={"email": EMAIL, "password": PASSWORD}) as response:
            response.raise_for_status()
            token = (await response.json())["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        saved = forever(lambda n: ("POST", "/api/v1/links",
                                   {"url": f"https://bench.example.org/post/{n}?utm_source=x",
                                    "source": "bench", "tags": ["bench"]}))
        pages = forever(lambda n: ("GET", f"/api/v1/links?cursor={cursors[n % len(cursors)]}",
                                   None))
        plan: list[tuple[str, int, Iterator[Request], int]] = [
            ("GET /healthz (ceiling)", clients, forever(lambda n: ("GET", "/healthz", None)),
             5 * scale),
            ("POST /api/v1/links (new URL, 201)", clients, saved, 2 * scale),
            ("GET /api/v1/links first page (cached)", clients,
             forever(lambda n: ("GET", "/api/v1/links", None)), 3 * scale),
            ("GET /api/v1/links?cursor=… (keyset pages, uncached)", clients, pages, 2 * scale),
            (f"GET /api/v1/tags/{TAG}/links?cursor=… (uncached)", clients,
             forever(lambda n: ("GET", f"/api/v1/tags/{TAG}/links?cursor="
                                       f"{tag_cursors[n % len(tag_cursors)]}", None)),
             2 * scale),
            ("GET /api/v1/search?q=python", clients,
             forever(lambda n: ("GET", "/api/v1/search?q=python", None)), scale),
            ("GET /api/v1/search?q=김치찌개", clients,
             forever(lambda n: ("GET", "/api/v1/search?q=김치찌개", None)), scale),
            ("POST /api/v1/links (new URL, 201), one client", 1, saved, scale // 2),
            ("GET /api/v1/links?cursor=…, one client", 1, pages, scale // 2),
            ("GET /api/v1/search?q=python, one client", 1,
             forever(lambda n: ("GET", "/api/v1/search?q=python", None)), scale // 2),
        ]
        rows = []
        for name, concurrency, requests, count in plan:
            row = await drive(session, base, name, concurrency, requests, count)
            print(f"{name}: {row.per_second:,.0f}/s p50 {row.p50_ms:.1f} ms"
                  f" p99 {row.p99_ms:.1f} ms errors {row.errors}")
            rows.append(row)
        return rows


def report(rows: list[Row], links: int, rss: float | None) -> str:
    lines = [
        "# API: save, list and search over HTTP",
        "",
        f"`linkarchive api` (SQLite, in-process cache) in its own process; one user with"
        f" {links:,} links; driven over 127.0.0.1 by aiohttp clients in another process, every"
        " request authenticated (JWT plus the session check). A tenth more requests warm up"
        f" each row first. {os.cpu_count()} CPUs shared by client and server,"
        f" Python {platform.python_version()}.",
        "",
        "| request | clients | requests | req/s | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(f"| {row.name} | {row.clients} | {row.requests:,} | {row.per_second:,.0f}"
                     f" | {row.p50_ms:.1f} | {row.p99_ms:.1f} | {row.errors} |")
    if rss is not None:
        lines += ["", f"Server RSS after the run: {rss:.0f} MiB."]
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    return text


async def main(links: int, other_links: int, clients: int, scale: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cursors, tag_cursors = await seed(folder, links, other_links)
        port = free_port()
        server = start_server(folder, port)
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                await wait_ready(session, base, server)
            rows = await measure(base, cursors, tag_cursors, clients, scale)
            rss = server_rss_mib(server.pid)
        except BaseException:
            print((folder / "server.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(report(rows, links, rss))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--other-links", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--scale", type=int, default=1_000,
                        help="requests per row, in thousands of the smallest rows")
    arguments = parser.parse_args()
    anyio.run(main, arguments.links, arguments.other_links, arguments.clients, arguments.scale)
