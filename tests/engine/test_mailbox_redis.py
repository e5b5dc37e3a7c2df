"""Redis-only behaviour: trimmed streams, reclaim across consumers, long leases, outages."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest
from redis.asyncio import Redis

from linkarchive.engine.mailbox.redis import GROUP, RedisMailbox
from linkarchive.errors import MailboxUnavailable
from tests.conftest import free_port, wait_until

pytestmark = pytest.mark.anyio

VT = 0.4
REDIS_SERVER = "/usr/bin/redis-server"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def _open(url: str, prefix: str, consumer: str, **options: float) -> RedisMailbox:
    return RedisMailbox.from_url(url, prefix=prefix, consumer=consumer, visibility_timeout=VT,
                                 max_deliveries=3, **options)


async def _matching(raw: Redis, pattern: str, kind: str | None = None) -> list[str]:
    return [key async for key in raw.scan_iter(match=pattern, _type=kind)]


async def test_streams_hold_only_live_entries(redis_url: str, redis_prefix: str,
                                              raw: Redis) -> None:
    async with _open(redis_url, redis_prefix, "one") as box:
        for n in range(3):
            await box.send("q", {"n": n}, key=f"k{n}")
        done, later, bad = await box.receive("q", max_messages=3, timeout=2)
        streams = await _matching(raw, f"{redis_prefix}*ready:*", "stream")
        assert streams and sum([await raw.xlen(s) for s in streams]) == 3

        await box.ack(done)
        await box.retry(later, "busy", delay=0)
        await box.dead_letter(bad, "broken")
        [again] = await box.receive("q", timeout=2)
        assert again.id == later.id and again.attempts == 2
        await box.ack(again)

        assert sum([await raw.xlen(s) for s in streams]) == 0
        assert await _matching(raw, f"{redis_prefix}*msg:*") == []
        [dead] = await _matching(raw, f"{redis_prefix}*dead", "stream")
        assert await raw.xlen(dead) == 1
        assert await box.send("q", {"n": 0}, key="k0")  # keys are freed on ack and dead letter
        assert await box.send("q", {"n": 2}, key="k2")


async def test_vanished_consumer_messages_are_reclaimed_by_another(
        redis_url: str, redis_prefix: str, raw: Redis) -> None:
    async with _open(redis_url, redis_prefix, "survivor") as survivor:
        async with _open(redis_url, redis_prefix, "vanished") as vanished:
            await vanished.send("q", {"n": 1})
            [first] = await vanished.receive("q", timeout=2)
            assert await survivor.receive("q", timeout=0.1) == []
            started = time.monotonic()
            [again] = await survivor.receive("q", timeout=VT + 3)
            assert time.monotonic() - started >= VT - 0.15
            assert again.id == first.id and again.attempts == 2
            await vanished.ack(first)  # a late ack from the old lease changes nothing
            assert (await survivor.stats("q")).in_flight == 1
        # Closing left the groups, as the vanished consumer held nothing any more.
        [stream] = [s for s in await _matching(raw, f"{redis_prefix}*ready:*", "stream")
                    if await raw.xlen(s)]
        consumers = {c["name"]: c["pending"] for c in await raw.xinfo_consumers(stream, GROUP)}
        assert consumers == {"survivor": 1}
        await survivor.ack(again)
        assert (await survivor.stats("q")).depth == 0


async def test_extend_beyond_the_visibility_timeout(redis_url: str, redis_prefix: str) -> None:
    async with _open(redis_url, redis_prefix, "slow") as slow, \
            _open(redis_url, redis_prefix, "eager") as eager:
        await slow.send("q", {"n": 1})
        [envelope] = await slow.receive("q", timeout=2)
        await slow.extend(envelope, 4 * VT)
        extended = time.monotonic()
        await anyio.sleep(2 * VT)
        assert await eager.receive("q", timeout=0.1) == []
        [again] = await eager.receive("q", timeout=4 * VT + 3)
        assert time.monotonic() - extended >= 4 * VT - 0.15
        assert again.id == envelope.id and again.attempts == 2
        await eager.ack(again)


async def test_blocked_receive_keeps_priority_and_its_limit(redis_url: str, redis_prefix: str,
                                                       raw: Redis) -> None:
    async with _open(redis_url, redis_prefix, "one") as box:
        await box.receive("q", timeout=0.1)  # the streams and their groups exist now

        async def send_two_at_once() -> None:
            await anyio.sleep(0.2)
            # One transaction, so a single blocking read sees both priority streams filled.
            keys = box._keys_of("q")
            async with raw.pipeline(transaction=True) as pipe:
                for n, priority in ((1, 9), (2, 0)):
                    await box._scripts["send"](
                        keys=keys.script_keys, client=pipe,
                        args=[GROUP, keys.message, f"m{n}", f'{{"n": {n}}}', "0", "", priority,
                              repr(time.time()), 0])
                await pipe.execute()

        async with anyio.create_task_group() as tg:
            tg.start_soon(send_two_at_once)
            [first] = await box.receive("q", max_messages=1, timeout=3)
        assert first.body == {"n": 2}
        [second] = await box.receive("q", max_messages=5, timeout=1)
        assert second.body == {"n": 1} and second.attempts == 1
        stats = await box.stats("q")
        assert stats.in_flight == 2 and stats.ready == 0


class _RedisServer:
    """A private redis-server without persistence that a test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._listening, timeout=10, what="redis-server to listen")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[_RedisServer]:
    server = _RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_outage_raises_unavailable_and_the_mailbox_recovers(
        own_redis: _RedisServer) -> None:
    async with _open(own_redis.url, "outage:", "one", socket_timeout=1.0) as box:
        await box.send("q", {"n": 1})
        [envelope] = await box.receive("q", timeout=2)
        await box.ack(envelope)

        async def stop_soon() -> None:
            await anyio.sleep(0.3)
            await anyio.to_thread.run_sync(own_redis.stop)

        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            tg.start_soon(stop_soon)
            with pytest.raises(MailboxUnavailable):
                await box.receive("q", timeout=10)  # blocked in Redis when it goes away
        assert time.monotonic() - started < 5

        for call in (box.ping, lambda: box.send("q", {"n": 2}), lambda: box.stats("q"),
                     lambda: box.receive("q", timeout=0.2), lambda: box.ack(envelope)):
            with pytest.raises(MailboxUnavailable) as caught:
                await call()
            assert caught.value.__cause__ is not None

        await anyio.to_thread.run_sync(own_redis.start)
        await box.ping()
        assert await box.send("q", {"n": 3})
        [back] = await box.receive("q", timeout=2)
        assert back.body == {"n": 3} and back.attempts == 1
        await box.ack(back)
        assert (await box.stats("q")).depth == 0

        # A restart between two calls: the pooled connection is dead, the next call reconnects.
        await anyio.to_thread.run_sync(own_redis.stop)
        await anyio.to_thread.run_sync(own_redis.start)
        assert await box.send("q", {"n": 4})
        assert (await box.stats("q")).ready == 1


async def test_blocked_receive_survives_redis_losing_its_data(own_redis: _RedisServer) -> None:
    raw = Redis.from_url(own_redis.url, decode_responses=True)
    received = []
    async with raw, _open(own_redis.url, "lost:", "one") as box:

        async def flush_then_send() -> None:
            await anyio.sleep(0.2)
            await raw.flushall()
            await anyio.sleep(0.2)
            await box.send("q", {"n": 1})

        async with anyio.create_task_group() as tg:
            tg.start_soon(flush_then_send)
            received.extend(await box.receive("q", timeout=3))
    assert [e.body for e in received] == [{"n": 1}]
