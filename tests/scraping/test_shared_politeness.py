"""Per-host politeness shared across workers through Redis."""

from __future__ import annotations

import pytest

from linkarchive.errors import FetchError
from linkarchive.http.ratelimit import Rate, RedisRateLimiter
from linkarchive.scraping.politeness import SharedHostLimiter

pytestmark = pytest.mark.anyio


async def test_two_workers_share_one_hosts_budget(redis_url, redis_prefix) -> None:
    rate = Rate(2, 10.0)  # bursts of two, then one request every five seconds
    first = RedisRateLimiter.from_url(redis_url, rate, prefix=redis_prefix)
    second = RedisRateLimiter.from_url(redis_url, rate, prefix=redis_prefix)
    try:
        a = SharedHostLimiter(first, max_wait=0.5)
        b = SharedHostLimiter(second, max_wait=0.5)
        await a.acquire("example.org")
        await b.acquire("example.org")
        with pytest.raises(FetchError) as refused:
            await a.acquire("example.org")
        assert refused.value.transient and 4 < refused.value.retry_after <= 5
        await b.acquire("other.example")  # hosts have budgets of their own
    finally:
        await first.aclose()
        await second.aclose()
