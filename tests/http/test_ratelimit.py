"""The rate-limit contract, run on the in-process and the (real) Redis backend, and over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from linkarchive.errors import RateLimited
from linkarchive.http.jsonio import json_response
from linkarchive.http.middlewares import public
from linkarchive.http.ratelimit import InProcessRateLimiter, Rate, RateLimiter, RedisRateLimiter
from tests.conftest import free_port
from tests.http.support import Services, bearer, make_app, serve, token_for

pytestmark = pytest.mark.anyio

FAST = Rate(limit=5, period=0.5)  # a token back every 0.1 s


@pytest.fixture(params=["memory", "redis"])
async def limiter(request) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        async with InProcessRateLimiter(FAST) as memory:
            yield memory
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        async with RedisRateLimiter.from_url(url, FAST, prefix=prefix) as shared:
            yield shared


async def hits_allowed(limiter: RateLimiter, key: str, attempts: int) -> int:
    allowed = 0
    for _ in range(attempts):
        try:
            await limiter.hit(key)
            allowed += 1
        except RateLimited:
            pass
    return allowed


async def test_a_burst_up_to_the_limit_then_429_with_the_wait(limiter: RateLimiter) -> None:
    assert await hits_allowed(limiter, "user:1", 5) == 5
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("user:1")
    assert 0 < refused.value.retry_after <= FAST.interval + 0.01


async def test_tokens_come_back_at_the_rate(limiter: RateLimiter) -> None:
    assert await hits_allowed(limiter, "user:1", 6) == 5
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("user:1")
    await anyio.sleep(refused.value.retry_after + 0.02)
    await limiter.hit("user:1")
    with pytest.raises(RateLimited):
        await limiter.hit("user:1")


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    assert await hits_allowed(limiter, "user:1", 6) == 5
    assert await hits_allowed(limiter, "user:2", 5) == 5
    assert await hits_allowed(limiter, "ip:127.0.0.1", 5) == 5


async def test_a_refused_hit_takes_nothing(limiter: RateLimiter) -> None:
    assert await hits_allowed(limiter, "user:1", 5) == 5
    for _ in range(20):
        with pytest.raises(RateLimited):
            await limiter.hit("user:1")
    await anyio.sleep(FAST.interval + 0.03)
    await limiter.hit("user:1")


async def test_cost_counts_several_tokens(limiter: RateLimiter) -> None:
    await limiter.hit("user:1", cost=4)
    with pytest.raises(RateLimited):
        await limiter.hit("user:1", cost=2)
    await limiter.hit("user:1")
    with pytest.raises(ValueError):
        await limiter.hit("user:1", cost=6)


async def test_redis_buckets_live_under_the_prefix_and_expire(redis_url, redis_prefix) -> None:
    async with RedisRateLimiter.from_url(redis_url, FAST, prefix=redis_prefix) as limiter:
        await limiter.hit("user:1")
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
        assert keys == [f"{redis_prefix}ratelimit:user:1".encode()]
        assert 0 < await client.pttl(keys[0]) <= 110  # full again after one interval
    finally:
        await client.aclose()


async def test_redis_is_atomic_across_processes(redis_url, redis_prefix) -> None:
    rate = Rate(limit=10, period=60)
    allowed = 0
    async with (RedisRateLimiter.from_url(redis_url, rate, prefix=redis_prefix) as first,
                RedisRateLimiter.from_url(redis_url, rate, prefix=redis_prefix) as second):

        async def hit(limiter: RateLimiter) -> None:
            nonlocal allowed
            try:
                await limiter.hit("user:shared")
                allowed += 1
            except RateLimited:
                pass

        async with anyio.create_task_group() as tasks:
            for n in range(60):
                tasks.start_soon(hit, first if n % 2 else second)
    assert allowed == 10


async def test_redis_unreachable_lets_requests_through(caplog) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    async with RedisRateLimiter.from_url(url, Rate(limit=1), prefix="x:", timeout=0.5) as limiter:
        with anyio.fail_after(5):
            for _ in range(3):
                await limiter.hit("user:1")
    assert "Redis is unavailable" in caplog.text


routes = web.RouteTableDef()


@routes.get("/api/v1/ping")
async def ping(request: web.Request) -> web.Response:
    return json_response({"pong": True})


@routes.post("/api/v1/auth/example")
@public
async def login(request: web.Request) -> web.Response:
    return json_response({"ok": True})


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_over_the_limit_answers_429_with_retry_after(backend: str, request) -> None:
    rate = Rate(limit=3, period=60)
    if backend == "memory":
        shared: RateLimiter = InProcessRateLimiter(rate)
    else:
        shared = RedisRateLimiter.from_url(request.getfixturevalue("redis_url"), rate,
                                           prefix=request.getfixturevalue("redis_prefix"))
    async with shared:
        app = make_app(routes=routes, services=Services(rate_limiter=shared))
        async with serve(app) as client:
            alice, bob = bearer(token_for(app, "alice")), bearer(token_for(app, "bob"))
            for _ in range(3):
                assert (await client.get("/api/v1/ping", headers=alice)).status == 200
            refused = await client.get("/api/v1/ping", headers=alice)
            assert refused.status == 429
            assert refused.headers["Retry-After"] == "20"
            body = await refused.json(content_type="application/problem+json")
            assert body["retry_after"] == 20
            assert (await client.get("/api/v1/ping", headers=bob)).status == 200
            # Unauthenticated auth routes are limited per client address.
            statuses = [(await client.post("/api/v1/auth/example")).status for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            # Probes are not limited.
            assert {(await client.get("/healthz")).status for _ in range(5)} == {200}
