"""Mailbox throughput: send, then receive and ack, per backend and receive batch size.

Run ``.venv/bin/python bench/mailbox.py``; prints a markdown table and writes it to
``bench/results/mailbox.md``. Redis is taken from ``LINKARCHIVE_REDIS_URL`` (default the local
one) under a unique key prefix that is deleted afterwards; SQLite uses a temporary file.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import anyio

from linkarchive.engine.mailbox.base import Mailbox
from linkarchive.engine.mailbox.memory import MemoryMailbox
from linkarchive.engine.mailbox.sqlite import SQLiteMailbox
from linkarchive.storage.sqlite import SQLiteDatabase

REDIS_URL = os.environ.get("LINKARCHIVE_REDIS_URL", "redis://127.0.0.1:6379/0")
RESULTS = Path(__file__).parent / "results" / "mailbox.md"
QUEUE = "bench"
BODY = {"link_id": 123456, "url": "https://example.org/some/article?ref=feed", "user_id": 42}


@dataclass(frozen=True)
class Result:
    backend: str
    batch: int
    sent: int
    send_seconds: float
    drained: int
    drain_seconds: float

    def row(self) -> str:
        send = self.sent / self.send_seconds
        drain = self.drained / self.drain_seconds
        return (f"| {self.backend} | {self.batch} | {self.drained:,} | {send:,.0f} "
                f"| {drain:,.0f} | {1 / (1 / send + 1 / drain):,.0f} |")


@asynccontextmanager
async def memory_mailbox() -> AsyncIterator[Mailbox]:
    async with MemoryMailbox() as box:
        yield box


@asynccontextmanager
async def sqlite_mailbox() -> AsyncIterator[Mailbox]:
    with tempfile.TemporaryDirectory() as folder:
        async with SQLiteDatabase(f"sqlite:///{Path(folder) / 'bench.sqlite'}") as database:
            await database.migrate()
            async with SQLiteMailbox(database) as box:
                yield box


@asynccontextmanager
async def redis_mailbox() -> AsyncIterator[Mailbox]:
    from redis.asyncio import Redis

    from linkarchive.engine.mailbox.redis import RedisMailbox

    prefix = f"linkarchive-bench:{uuid.uuid4().hex[:10]}:"
    try:
        async with RedisMailbox.from_url(REDIS_URL, prefix=prefix) as box:
            yield box
    finally:
        async with Redis.from_url(REDIS_URL) as client:
            keys = [key async for key in client.scan_iter(match=prefix + "*", count=1000)]
            if keys:
                await client.delete(*keys)


def redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379),
                                      timeout=1):
            return True
    except OSError:
        return False


async def measure(backend: str, opener: Callable[[], AbstractAsyncContextManager[Mailbox]],
                  batch: int, messages: int, budget: float) -> Result:
    """Send ``messages`` one per call, then receive up to ``batch`` at a time and ack each;
    each phase stops early after ``budget`` seconds and is measured on what it did."""
    async with opener() as box:
        started = time.perf_counter()
        sent = 0
        while sent < messages and time.perf_counter() - started < budget:
            await box.send(QUEUE, BODY)
            sent += 1
        send_seconds = time.perf_counter() - started

        started = time.perf_counter()
        done = 0
        while done < sent and time.perf_counter() - started < budget:
            for envelope in await box.receive(QUEUE, max_messages=batch, timeout=1.0):
                await box.ack(envelope)
                done += 1
        drain_seconds = time.perf_counter() - started
    return Result(backend, batch, sent, send_seconds, done, drain_seconds)


async def main(messages: int, budget: float) -> str:
    """Every case, as a markdown table."""
    openers: dict[str, Callable[[], AbstractAsyncContextManager[Mailbox]]] = {
        "memory": memory_mailbox, "sqlite": sqlite_mailbox}
    notes = []
    if redis_reachable():
        openers["redis"] = redis_mailbox
    else:
        notes.append(f"redis skipped: nothing listening at {REDIS_URL}")
    results = [await measure(name, opener, batch, messages, budget)
               for name, opener in openers.items() for batch in (1, 100)]
    return "\n".join([
        "| backend | receive batch | messages | send msg/s | receive+ack msg/s | total msg/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(result.row() for result in results),
        *(f"\n{note}" for note in notes)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="messages per case")
    parser.add_argument("--budget", type=float, default=15.0,
                        help="seconds at most per phase of a case")
    arguments = parser.parse_args()
    table = anyio.run(main, arguments.messages, arguments.budget)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table + "\n")
