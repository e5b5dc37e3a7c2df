"""The named-lock contract on both backends: in-process and (real) Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio

from linkarchive.storage.locks import Locks, MemoryLocks
from linkarchive.storage.locks.base import LockTimeout
from linkarchive.storage.locks.redis import RedisLocks

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
async def locks(request) -> AsyncIterator[Locks]:
    if request.param == "memory":
        async with MemoryLocks() as backend:
            yield backend
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        async with RedisLocks.from_url(url, prefix=prefix) as backend:
            yield backend


async def test_holders_of_one_name_never_overlap(locks: Locks) -> None:
    inside = peak = done = 0

    async def worker() -> None:
        nonlocal inside, peak, done
        async with locks.hold("page:abc", ttl=10, wait=10):
            inside += 1
            peak = max(peak, inside)
            await anyio.sleep(0.02)
            inside -= 1
            done += 1

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(worker)
    assert (peak, done) == (1, 6)


async def test_different_names_do_not_wait_for_each_other(locks: Locks) -> None:
    async with locks.hold("a", ttl=10, wait=1):
        with anyio.fail_after(2):
            async with locks.hold("b", ttl=10, wait=1):
                pass


async def test_waiting_is_bounded(locks: Locks) -> None:
    taken, release = anyio.Event(), anyio.Event()

    async def holder() -> None:
        async with locks.hold("busy", ttl=10, wait=1):
            taken.set()
            await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(holder)
        await taken.wait()
        with pytest.raises(LockTimeout, match="busy"):
            async with locks.hold("busy", ttl=10, wait=0.2):
                pass
        release.set()


async def test_a_cancelled_holder_releases(locks: Locks) -> None:
    async with anyio.create_task_group() as tg:
        async def holder() -> None:
            async with locks.hold("x", ttl=10, wait=1):
                await anyio.sleep(30)

        tg.start_soon(holder)
        await anyio.sleep(0.1)
        tg.cancel_scope.cancel()
    with anyio.fail_after(2):
        async with locks.hold("x", ttl=10, wait=1):
            pass


async def test_redis_lock_of_a_dead_holder_expires(redis_url, redis_prefix) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        # A process took the lock and died: only its key with its expiry is left.
        await client.set(f"{redis_prefix}gone", "someone-elses-token", px=300)
        async with RedisLocks.from_url(redis_url, prefix=redis_prefix) as locks:
            with pytest.raises(LockTimeout):
                async with locks.hold("gone", ttl=5, wait=0.1):
                    pass
            async with locks.hold("gone", ttl=5, wait=3):
                assert await client.get(f"{redis_prefix}gone") != b"someone-elses-token"
            assert await client.exists(f"{redis_prefix}gone") == 0  # released on exit
    finally:
        await client.aclose()
