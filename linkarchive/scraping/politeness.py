"""Per-host politeness: a token bucket per host, so one site never sees a burst from us.

The fetcher only needs ``HostLimiter.acquire``; a Redis-backed limiter shared by every worker can
replace the in-process one without the fetcher noticing.
"""

from __future__ import annotations

import time
from typing import Protocol

import anyio

from linkarchive.errors import FetchError, RateLimited

__all__ = ["HostLimiter", "KeyedLimiter", "SharedHostLimiter", "TokenBucketLimiter"]


class KeyedLimiter(Protocol):
    async def hit(self, key: str, *, cost: int = 1) -> None:
        """Take a token for ``key`` or raise RateLimited with ``retry_after``."""


class HostLimiter(Protocol):
    async def acquire(self, host: str) -> None:
        """Wait for the right to send one request to ``host``; raise a transient FetchError
        (with ``retry_after``) instead of waiting unreasonably long."""


class TokenBucketLimiter:
    """In-process buckets: ``rate`` requests a second per host, bursts of up to ``burst``."""

    def __init__(self, *, rate: float = 2.0, burst: int = 4, max_wait: float = 10.0,
                 max_hosts: int = 10_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._max_wait = max_wait
        self._max_hosts = max_hosts
        # host -> (tokens, monotonic time of that count); tokens below zero are reservations.
        self._buckets: dict[str, tuple[float, float]] = {}

    def _forget_idle(self, now: float) -> None:
        full = [host for host, (tokens, at) in self._buckets.items()
                if tokens + (now - at) * self._rate >= self._burst]
        for host in full:
            del self._buckets[host]

    async def acquire(self, host: str) -> None:
        now = time.monotonic()
        if len(self._buckets) >= self._max_hosts:
            self._forget_idle(now)
        tokens, at = self._buckets.get(host, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self._rate
        if wait > self._max_wait:
            raise FetchError(f"too many requests to {host} right now", transient=True,
                             retry_after=wait)
        # Reserve before sleeping: no await between reading and writing the bucket.
        self._buckets[host] = (tokens - 1, now)
        if wait:
            await anyio.sleep(wait)


class SharedHostLimiter:
    """Per-host politeness shared by every worker: a rate limiter keyed by host (Redis in a
    scale-out setup, atomic on the server), waited on up to ``max_wait`` seconds."""

    def __init__(self, limiter: KeyedLimiter, *, max_wait: float = 10.0) -> None:
        self._limiter = limiter
        self._max_wait = max_wait

    async def acquire(self, host: str) -> None:
        deadline = time.monotonic() + self._max_wait
        while True:
            try:
                await self._limiter.hit(f"host:{host}")
                return
            except RateLimited as exc:
                if time.monotonic() + exc.retry_after > deadline:
                    raise FetchError(f"too many requests to {host} right now", transient=True,
                                     retry_after=exc.retry_after) from None
                await anyio.sleep(exc.retry_after)
