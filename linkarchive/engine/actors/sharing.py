"""One fetch for many: results shared by key (a page's or a picture's URL) for a short window.

Concurrent work on one key in this process queues on a per-key lock, and the first result is
kept in the cache, so two users saving the same link moments apart cause one fetch, and a site's
one default picture is thumbnailed once. Across processes the cache (Redis when configured)
still shares results that have landed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import orjson

from linkarchive.errors import UnavailableError
from linkarchive.storage.cache import Cache

__all__ = ["FetchShare"]

log = logging.getLogger("linkarchive.pipeline")


class FetchShare:
    """``get_or_fetch(key, fetch)`` runs ``fetch`` once per key per ``ttl`` seconds."""

    def __init__(self, cache: Cache, *, ttl: float = 600.0) -> None:
        self.cache = cache
        self.ttl = ttl
        self._locks: dict[str, tuple[anyio.Lock, int]] = {}

    async def get_or_fetch(self, key: str,
                           fetch: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        lock, users = self._locks.get(key, (anyio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                cached = await self._get(key)
                if cached is not None:
                    return cached
                result = await fetch()
                await self._set(key, result)
                return result
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _get(self, key: str) -> dict[str, Any] | None:
        try:
            raw = await self.cache.get(key)
        except UnavailableError:
            return None
        return None if raw is None else orjson.loads(raw)

    async def _set(self, key: str, value: dict[str, Any]) -> None:
        try:
            await self.cache.set(key, orjson.dumps(value), self.ttl)
        except UnavailableError as exc:
            log.warning("scrape result not shared: %s", exc)
