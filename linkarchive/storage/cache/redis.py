"""The shared cache on Redis: values with ``PX`` expiry, generation counters in one Lua script.

Keys: ``{prefix}v:{key}`` for values and ``{prefix}g:{user_id}`` for counters, so no value key
can land on a counter. Reads and fills that fail are misses, logged at most every
``WARN_INTERVAL`` seconds; invalidations that fail raise UnavailableError (see ``Cache``).
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from linkarchive.errors import UnavailableError
from linkarchive.storage.cache.base import Cache

__all__ = ["RedisCache"]

log = logging.getLogger("linkarchive.cache")

WARN_INTERVAL = 30.0
GENERATION_TTL = 7 * 86400  # an idle user's counter goes; restarting it is safe by design

# KEYS[1] the counter; ARGV[1] "1" to bump, "0" to read; ARGV[2] the counter's TTL in seconds.
# A missing counter starts at the server's time in microseconds, built as a string because Lua
# numbers would print in exponent form.
_GENERATION_SCRIPT = """
local generation = redis.call('GET', KEYS[1])
if generation then
  if ARGV[1] == '0' then
    return generation
  end
  generation = redis.call('INCR', KEYS[1])
else
  local now = redis.call('TIME')
  generation = now[1] .. string.format('%06d', tonumber(now[2]))
  redis.call('SET', KEYS[1], generation)
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return generation
"""

_ERRORS = (RedisError, OSError)


class RedisCache(Cache):
    """A cache shared by every process on the same Redis and ``prefix``."""

    def __init__(self, url: str, *, prefix: str, socket_timeout: float = 1.0) -> None:
        super().__init__()
        self.prefix = prefix
        # Short timeouts and a single immediate retry (for a pooled connection Redis dropped):
        # a slow cache must cost a request less than the work it was meant to save.
        self._redis = Redis.from_url(url, socket_timeout=socket_timeout,
                                     socket_connect_timeout=socket_timeout,
                                     retry=Retry(NoBackoff(), 1))
        self._generation_script = self._redis.register_script(_GENERATION_SCRIPT)
        self._quiet_until = 0.0

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except _ERRORS as exc:
            raise UnavailableError(f"the Redis cache cannot be reached: {exc}") from exc

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _failed(self, action: str, exc: Exception) -> None:
        self._errors += 1
        now = time.monotonic()
        if now >= self._quiet_until:
            self._quiet_until = now + WARN_INTERVAL
            log.warning("Redis cache %s failed (%d cache errors so far; next warning in %.0fs "
                        "at the earliest): %s", action, self._errors, WARN_INTERVAL, exc)

    async def _get(self, key: str) -> bytes | None:
        try:
            return await self._redis.get(f"{self.prefix}v:{key}")
        except _ERRORS as exc:
            self._failed("get", exc)
            return None

    async def _set(self, key: str, value: bytes, ttl: float) -> None:
        try:
            await self._redis.set(f"{self.prefix}v:{key}", value, px=max(1, round(ttl * 1000)))
        except _ERRORS as exc:
            self._failed("set", exc)

    async def _delete(self, key: str) -> None:
        try:
            await self._redis.delete(f"{self.prefix}v:{key}")
        except _ERRORS as exc:
            self._errors += 1
            raise UnavailableError(f"the Redis cache could not forget {key!r}: {exc}") from exc

    async def _counter(self, user_id: str, *, bump: bool) -> int:
        generation = await self._generation_script(
            keys=[f"{self.prefix}g:{user_id}"], args=["1" if bump else "0", GENERATION_TTL])
        return int(generation)

    async def _read_generation(self, user_id: str) -> int | None:
        try:
            return await self._counter(user_id, bump=False)
        except _ERRORS as exc:
            self._failed("generation read", exc)
            return None

    async def _bump_generation(self, user_id: str) -> int:
        try:
            return await self._counter(user_id, bump=True)
        except _ERRORS as exc:
            self._errors += 1
            raise UnavailableError(
                f"the Redis cache could not invalidate the pages of user {user_id!r}: {exc}"
            ) from exc
