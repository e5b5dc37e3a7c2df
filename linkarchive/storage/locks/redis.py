"""Named locks shared by every process through Redis: ``SET NX PX`` with a random token.

The expiry is set in the same command that takes the lock, so a crashed holder frees the name
after ``ttl``; release deletes the key only if it still holds our token (a Lua compare-and-
delete), so a holder that outlived its ``ttl`` cannot free someone else's lock.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from linkarchive.errors import UnavailableError
from linkarchive.storage.locks.base import Locks, LockTimeout

__all__ = ["RedisLocks"]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_POLL_MIN, _POLL_MAX = 0.02, 0.5
_ERRORS = (redis_errors.RedisError, OSError)


class RedisLocks(Locks):
    def __init__(self, client: Redis, *, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, *, prefix: str, timeout: float = 2.0) -> RedisLocks:
        return cls(Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout),
                   prefix=prefix)

    async def aclose(self) -> None:
        await self._client.aclose()

    @asynccontextmanager
    async def hold(self, name: str, *, ttl: float = 60.0,
                   wait: float = 60.0) -> AsyncIterator[None]:
        key, token = self._prefix + name, secrets.token_hex(16)
        deadline = time.monotonic() + wait
        pause = _POLL_MIN
        while True:
            try:
                taken = await self._client.set(key, token, nx=True, px=max(1, int(ttl * 1000)))
            except _ERRORS as exc:
                raise UnavailableError(f"Redis locks are unavailable: {exc}") from exc
            if taken:
                break
            if time.monotonic() + pause > deadline:
                raise LockTimeout(f"{name} stayed locked for over {wait:g}s")
            await anyio.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)
        try:
            yield
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self._release(keys=[key], args=[token])
                except _ERRORS:
                    pass  # the lock expires by itself after ttl
