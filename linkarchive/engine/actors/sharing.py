"""One fetch for many savers: scrape results shared by URL for a short window.

Concurrent scrapes of one URL in this process queue on a per-URL lock, and the first result is
kept in the cache, so two users saving the same link moments apart cause one fetch. Across
processes the cache (Redis when configured) still shares results that have landed.
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
    """``get_or_fetch(url_hash, fetch)`` runs ``fetch`` once per URL per ``ttl`` seconds."""

    def __init__(self, cache: Cache, *, ttl: float = 600.0) -> None:
        self.cache = cache
        self.ttl = ttl
        self._locks: dict[str, tuple[anyio.Lock, int]] = {}

    async def get_or_fetch(self, url_hash: str,
                           fetch: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        lock, users = self._locks.get(url_hash, (anyio.Lock(), 0))
        self._locks[url_hash] = (lock, users + 1)
        try:
            async with lock:
                key = f"scrape:{url_hash}"
                cached = await self._get(key)
                if cached is not None:
                    return cached
                result = await fetch()
                await self._set(key, result)
                return result
        finally:
            lock, users = self._locks[url_hash]
            if users <= 1:
                del self._locks[url_hash]
            else:
                self._locks[url_hash] = (lock, users - 1)

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
