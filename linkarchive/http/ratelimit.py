"""Per-key rate limits: token buckets answered with RateLimited (429 and ``Retry-After``).

Both backends keep each bucket as one number, its *theoretical arrival time* (GCRA): the moment
the bucket would be full again. A bucket holds ``rate.limit`` tokens and refills evenly over
``rate.period`` seconds, so a client may burst ``limit`` requests and then go on at the rate.

The Redis backend runs the whole decision in one Lua script on the server's clock (``TIME``), so
any number of processes share a limit atomically. When Redis cannot be reached it lets requests
through and logs: a rate limit must not turn a cache outage into an API outage.
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from linkarchive.errors import RateLimited
from linkarchive.http.keys import CLAIMS

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "InProcessRateLimiter",
    "Rate",
    "RateLimiter",
    "RedisRateLimiter",
    "rate_limit_middleware",
]

log = logging.getLogger("linkarchive.http.ratelimit")

MAX_MEMORY_KEYS = 10_000

# KEYS[1] bucket; ARGV: emission interval (µs per token), burst (µs = limit * interval), cost.
# Integers travel as strings formatted with %.0f: Lua would print big numbers as 1.7e+15.
_GCRA = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * tonumber(ARGV[3])
local allow_at = new_tat - burst
if now < allow_at then
  return string.format('%.0f', allow_at - now)
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat),
           'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
return '0'
"""


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``period`` seconds, in bursts of up to ``limit``."""

    limit: int
    period: float = 60.0

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise ValueError(f"a rate needs limit >= 1 and period > 0, not {self}")

    @property
    def interval(self) -> float:
        """Seconds for one token to come back."""
        return self.period / self.limit


class RateLimiter(ABC):
    """Token buckets per key. ``hit`` takes tokens or raises RateLimited with the seconds to
    wait; a refused hit takes nothing. Keys are opaque strings such as ``user:42``."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate

    async def hit(self, key: str, *, cost: int = 1) -> None:
        """Take ``cost`` tokens from ``key``'s bucket, or raise RateLimited."""
        if not 1 <= cost <= self.rate.limit:
            raise ValueError(f"cost must be between 1 and {self.rate.limit}, not {cost}")
        wait = await self._take(key, cost)
        if wait > 0:
            raise RateLimited(f"Too many requests; try again in {math.ceil(wait)} s.",
                              retry_after=wait)

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections and forget the buckets this object holds."""

    async def __aenter__(self) -> RateLimiter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @abstractmethod
    async def _take(self, key: str, cost: int) -> float:
        """Take the tokens and answer 0, or take nothing and answer the seconds to wait."""


class InProcessRateLimiter(RateLimiter):
    """Buckets in this process's memory (monotonic clock); for a single API process."""

    def __init__(self, rate: Rate, *, max_keys: int = MAX_MEMORY_KEYS) -> None:
        super().__init__(rate)
        self._max_keys = max_keys
        self._tat: dict[str, float] = {}

    async def aclose(self) -> None:
        self._tat.clear()

    async def _take(self, key: str, cost: int) -> float:
        now = time.monotonic()
        new_tat = max(self._tat.get(key, now), now) + self.rate.interval * cost
        allow_at = new_tat - self.rate.period
        if now < allow_at:
            return allow_at - now
        self._tat[key] = new_tat
        if len(self._tat) > self._max_keys:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        # A bucket whose arrival time has passed is full: forgetting it changes nothing.
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}


class RedisRateLimiter(RateLimiter):
    """Buckets in Redis under ``{prefix}ratelimit:{key}``, each expiring once it is full."""

    def __init__(self, client: Redis, rate: Rate, *, prefix: str, owns_client: bool = False
                 ) -> None:
        from redis.exceptions import RedisError  # redis is loaded only when configured

        super().__init__(rate)
        self._errors = (RedisError, OSError)
        self._client = client
        self._prefix = f"{prefix}ratelimit:"
        self._owns_client = owns_client
        self._script = client.register_script(_GCRA)

    @classmethod
    def from_url(cls, url: str, rate: Rate, *, prefix: str, timeout: float = 1.0
                 ) -> RedisRateLimiter:
        """A limiter with its own client. One immediate retry replaces a connection that went
        stale (Redis restarted); more would make an outage cost several timeouts."""
        from redis.asyncio import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                retry=Retry(NoBackoff(), 1))
        return cls(client, rate, prefix=prefix, owns_client=True)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _take(self, key: str, cost: int) -> float:
        interval_us = round(self.rate.interval * 1_000_000)
        try:
            wait_us = await self._script(keys=[self._prefix + key],
                                         args=[interval_us, interval_us * self.rate.limit, cost])
        except self._errors as exc:
            log.warning("rate limit not checked, Redis is unavailable: %s", exc)
            return 0.0
        return int(wait_us) / 1_000_000


def rate_limit_middleware(*, limiter: RateLimiter, ip_paths: Collection[str] = ()
                          ) -> Middleware:
    """Limit authenticated requests per user; unauthenticated ones per client address, but only
    under the path prefixes in ``ip_paths`` (the auth routes). Runs after the auth middleware."""
    prefixes = tuple(ip_paths)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        claims = request.get(CLAIMS)
        if claims is not None:
            await limiter.hit(f"user:{claims.user_id}")
        elif prefixes and request.path.startswith(prefixes):
            await limiter.hit(f"ip:{request.remote}")
        return await handler(request)

    return middleware
