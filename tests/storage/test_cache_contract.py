"""The cache contract, run against the in-process LRU and a real Redis."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio

from linkarchive.config import load_settings
from linkarchive.errors import InvalidInput, UnavailableError
from linkarchive.storage.cache import Cache, MemoryCache, open_cache, user_key
from linkarchive.storage.cache.redis import RedisCache
from tests.conftest import free_port

pytestmark = pytest.mark.anyio

PAGE = b"\x00{\"links\": []}\xff"


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        async with MemoryCache(max_entries=1000) as memory:
            yield memory
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        async with RedisCache(url, prefix=prefix) as shared:
            yield shared


async def wait_for_miss(cache: Cache, key: str, *, limit: float = 3.0) -> float:
    """Poll until ``key`` misses (for at most ``limit`` seconds); answer how long that took."""
    started = time.monotonic()
    while await cache.get(key) is not None:
        if time.monotonic() - started > limit:
            raise AssertionError(f"{key!r} still cached after {limit}s")
        await anyio.sleep(0.02)
    return time.monotonic() - started


# -- the contract ------------------------------------------------------------------------------

async def test_round_trip_and_overwrite(cache: Cache) -> None:
    assert await cache.get("link:1") is None
    await cache.set("link:1", PAGE, ttl=60)
    assert await cache.get("link:1") == PAGE
    await cache.set("link:1", b"newer", ttl=60)
    assert await cache.get("link:1") == b"newer"
    assert await cache.get("link:2") is None


async def test_delete_forgets_and_is_idempotent(cache: Cache) -> None:
    await cache.set("link:1", PAGE, ttl=60)
    await cache.delete("link:1")
    assert await cache.get("link:1") is None
    await cache.delete("link:1")
    await cache.delete("never-set")


async def test_entries_expire_after_their_ttl(cache: Cache) -> None:
    await cache.set("short", b"s", ttl=0.15)
    await cache.set("long", b"l", ttl=60)
    assert await cache.get("short") == b"s"
    assert 0.05 < await wait_for_miss(cache, "short") < 3
    assert await cache.get("long") == b"l"


async def test_ttl_must_be_positive(cache: Cache) -> None:
    for ttl in (0, -1, float("nan")):
        with pytest.raises(InvalidInput):
            await cache.set("k", b"v", ttl=ttl)
    assert await cache.get("k") is None


async def test_bump_makes_old_pages_unreachable_without_touching_them(cache: Cache) -> None:
    first = await cache.user_generation(7)
    assert await cache.user_generation(7) == first  # stable until a change
    old_key = user_key(7, first, "links", "page=1", "tag=요리")
    await cache.set(old_key, PAGE, ttl=60)
    assert await cache.get(user_key(7, await cache.user_generation(7), "links", "page=1",
                                    "tag=요리")) == PAGE

    bumped = await cache.bump_user(7)
    assert bumped > first
    assert await cache.user_generation(7) == bumped
    assert await cache.get(user_key(7, bumped, "links", "page=1", "tag=요리")) is None
    # O(1): the bump deleted nothing; the old entry is merely unreachable and expires by TTL.
    assert await cache.get(old_key) == PAGE
    assert await cache.bump_user(7) > bumped


async def test_users_are_isolated(cache: Cache) -> None:
    alice, bob = await cache.user_generation("alice"), await cache.user_generation("bob")
    await cache.set(user_key("bob", bob, "links"), b"bob's page", ttl=60)
    await cache.bump_user("alice")
    await cache.bump_user("alice")
    assert await cache.user_generation("alice") > alice
    assert await cache.user_generation("bob") == bob
    assert await cache.get(user_key("bob", bob, "links")) == b"bob's page"


async def test_user_keys_do_not_collide(cache: Cache) -> None:
    one = user_key(1, 5, "a:b")
    other = user_key(1, 5, "a", "b")
    assert one != other and user_key("1:g5", 5, "a") != user_key(1, 5, "g5:a")
    await cache.set(one, b"one", ttl=60)
    assert await cache.get(other) is None


async def test_hit_and_miss_counts(cache: Cache) -> None:
    assert cache.stats().hit_ratio == 0.0
    await cache.get("absent")
    await cache.set("present", b"p", ttl=60)
    await cache.get("present")
    await cache.get("present")
    await cache.get("absent")
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.errors) == (2, 2, 0)
    assert stats.hit_ratio == 0.5


async def test_ping(cache: Cache) -> None:
    await cache.ping()


# -- the memory cache ----------------------------------------------------------------------------

async def test_memory_lru_bound_holds() -> None:
    cache = MemoryCache(max_entries=3)
    for n in range(3):
        await cache.set(f"k{n}", b"%d" % n, ttl=60)
    assert await cache.get("k0") == b"0"  # now the most recently used
    for n in range(3, 10):
        await cache.set(f"k{n}", b"%d" % n, ttl=60)
        assert len(cache) <= 3
    assert [await cache.get(f"k{n}") for n in range(10)] == [None] * 7 + [b"7", b"8", b"9"]
    with pytest.raises(InvalidInput):
        MemoryCache(max_entries=0)


async def test_memory_evicted_counter_restarts_above_every_old_generation() -> None:
    cache = MemoryCache(max_entries=2)
    for _ in range(5):
        last = await cache.bump_user(1)
    old_key = user_key(1, last, "links")
    await cache.set(old_key, b"old", ttl=60)
    await cache.set("filler", b"f", ttl=60)  # evicts the counter, the oldest entry
    restarted = await cache.user_generation(1)  # evicts old_key in turn
    assert restarted > last
    assert await cache.get(user_key(1, restarted, "links")) is None


# -- the Redis cache -----------------------------------------------------------------------------

async def test_redis_lost_counter_restarts_above_every_old_generation(
        redis_url: str, redis_prefix: str) -> None:
    async with RedisCache(redis_url, prefix=redis_prefix) as cache:
        for _ in range(5):
            last = await cache.bump_user(1)
        raw = redis.asyncio.Redis.from_url(redis_url)
        try:
            assert 0 < await raw.ttl(f"{redis_prefix}g:1")  # idle counters do not pile up
            assert await raw.delete(f"{redis_prefix}g:1") == 1  # as eviction or a flush would
        finally:
            await raw.aclose()
        assert await cache.user_generation(1) > last


async def test_redis_instances_share_generations(redis_url: str, redis_prefix: str) -> None:
    async with RedisCache(redis_url, prefix=redis_prefix) as api, \
            RedisCache(redis_url, prefix=redis_prefix) as worker:
        seen = await api.user_generation(3)
        await api.set(user_key(3, seen, "links"), PAGE, ttl=60)
        assert await worker.get(user_key(3, await worker.user_generation(3), "links")) == PAGE
        await worker.bump_user(3)
        assert await api.get(user_key(3, await api.user_generation(3), "links")) is None


async def test_redis_outage_degrades_reads_but_not_invalidations(
        caplog: pytest.LogCaptureFixture) -> None:
    started = time.monotonic()
    caplog.set_level(logging.WARNING, logger="linkarchive.cache")
    async with RedisCache(f"redis://127.0.0.1:{free_port()}/0", prefix="down:") as cache:
        assert await cache.get("k") is None
        await cache.set("k", b"v", ttl=60)
        assert await cache.get("k") is None
        generations = {await cache.user_generation(1) for _ in range(3)}
        assert len(generations) == 3 and all(g < 0 for g in generations)
        with pytest.raises(UnavailableError):
            await cache.bump_user(1)
        with pytest.raises(UnavailableError):
            await cache.delete("k")
        with pytest.raises(UnavailableError):
            await cache.ping()
        stats = cache.stats()
    assert (stats.hits, stats.misses, stats.errors) == (0, 2, 8)
    warnings = [r for r in caplog.records if r.name == "linkarchive.cache"]
    assert len(warnings) == 1, "warnings are rate limited"
    assert time.monotonic() - started < 5


# -- the factory --------------------------------------------------------------------------------

async def test_factory_picks_memory_without_redis() -> None:
    async with open_cache(load_settings(environ={})) as cache:
        assert isinstance(cache, MemoryCache)


async def test_factory_picks_redis_with_a_url(redis_url: str, redis_prefix: str) -> None:
    settings = load_settings(environ={"LINKARCHIVE_REDIS_URL": redis_url,
                                      "LINKARCHIVE_REDIS_PREFIX": redis_prefix})
    async with open_cache(settings) as cache:
        assert isinstance(cache, RedisCache) and cache.prefix == f"{redis_prefix}cache:"
        await cache.set("k", b"v", ttl=60)
        assert await cache.get("k") == b"v"
