"""The cache contract: bytes under string keys with a TTL, and per-user generation numbers.

A user's list pages are cached under keys that embed the user's generation
(``user_key(user_id, generation, "links", …)``). Any change to the user's links calls
``bump_user``: one INCR, after which every key built with the old generation is simply never
asked for again and expires on its own. No key is ever scanned or deleted in bulk.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Self
from urllib.parse import quote

from linkarchive.errors import InvalidInput

__all__ = ["Cache", "CacheStats", "user_key"]


def user_key(user_id: int | str, generation: int, *parts: object) -> str:
    """A key for one of the user's cached pages at ``generation``; parts are escaped, so
    ``("a:b",)`` and ``("a", "b")`` never collide."""
    escaped = ":".join(quote(str(part), safe="") for part in parts)
    return f"user:{quote(str(user_id), safe='')}:g{generation}:{escaped}"


@dataclass(frozen=True, kw_only=True)
class CacheStats:
    """Counts since the cache was opened; ``errors`` are backend failures answered as misses."""

    hits: int
    misses: int
    errors: int = 0

    @property
    def hit_ratio(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class Cache(ABC):
    """A best-effort byte cache with O(1) invalidation of a user's pages.

    What callers may rely on:

    - **get** may miss at any time (expiry, eviction, backend outage): it answers None, never
      raises for an outage. **set** with ``ttl`` seconds (> 0) is likewise skipped when the
      backend is down. No value is served past its TTL.
    - **Generations only go up.** ``bump_user`` answers a number greater than any generation the
      user had before, even if the counter itself was lost (evicted, expired, flushed): a lost
      counter restarts from the current time in microseconds. So a key built with an old
      generation can never be reached again; pages of other users are untouched.
    - **Invalidations are not best-effort:** ``bump_user`` and ``delete`` raise
      UnavailableError when they cannot be recorded, because a missed one would serve stale
      pages. The change itself is already saved by then; callers log and go on, and the stale
      entries end with their TTL, so cache list pages with a short one.
    - ``user_generation`` never raises: when the counter cannot be read it answers a fresh
      negative number, different each time, so the caller misses and recomputes.
    """

    def __init__(self) -> None:
        self._hits = 0
        self._misses = 0
        self._errors = 0
        self._last_fallback = 0

    async def get(self, key: str) -> bytes | None:
        """The cached bytes, or None on a miss."""
        value = await self._get(key)
        if value is None:
            self._misses += 1
        else:
            self._hits += 1
        return value

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Cache ``value`` for ``ttl`` seconds, replacing what was there."""
        if not ttl > 0:
            raise InvalidInput(f"a cache TTL must be positive, not {ttl!r}")
        await self._set(key, bytes(value), float(ttl))

    async def delete(self, key: str) -> None:
        """Forget ``key``; UnavailableError when that cannot be recorded."""
        await self._delete(key)

    async def user_generation(self, user_id: int | str) -> int:
        """The user's current generation, for ``user_key``."""
        generation = await self._read_generation(str(user_id))
        return self._fallback_generation() if generation is None else generation

    async def bump_user(self, user_id: int | str) -> int:
        """Make every page cached for the user unreachable; answers the new generation."""
        return await self._bump_generation(str(user_id))

    def stats(self) -> CacheStats:
        return CacheStats(hits=self._hits, misses=self._misses, errors=self._errors)

    @abstractmethod
    async def ping(self) -> None:
        """Raise UnavailableError when the backend cannot be reached."""

    async def aclose(self) -> None:  # noqa: B027 (a no-op unless the backend holds connections)
        """Release connections; the cache is unusable afterwards."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _fallback_generation(self) -> int:
        self._last_fallback = min(self._last_fallback - 1, -time.time_ns())
        return self._last_fallback

    # -- backend primitives ---------------------------------------------------------------------

    @abstractmethod
    async def _get(self, key: str) -> bytes | None:
        """The live value, or None; backend errors count in ``_errors`` and answer None."""

    @abstractmethod
    async def _set(self, key: str, value: bytes, ttl: float) -> None: ...

    @abstractmethod
    async def _delete(self, key: str) -> None: ...

    # A missing counter starts from the current time in microseconds (see the class docstring).

    @abstractmethod
    async def _read_generation(self, user_id: str) -> int | None:
        """The user's counter, started if missing; None when it cannot be read."""

    @abstractmethod
    async def _bump_generation(self, user_id: str) -> int:
        """Increment the user's counter, started if missing; raise UnavailableError if not."""
