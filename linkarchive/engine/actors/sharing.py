"""One fetch for many: results shared by key (a page's or a picture's URL) for a short window.

Concurrent work on one key queues on a named lock (across processes when Redis is configured),
and the first result is kept in the cache, so two users saving the same link moments apart
cause one fetch, and a site's one default picture is thumbnailed once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from linkarchive.errors import UnavailableError
from linkarchive.storage.cache import Cache
from linkarchive.storage.locks import Locks
from linkarchive.storage.locks.base import LockTimeout

__all__ = ["FetchShare"]

log = logging.getLogger("linkarchive.pipeline")


class FetchShare:
    """``get_or_fetch(key, fetch)`` runs ``fetch`` once per key per ``ttl`` seconds."""

    def __init__(self, cache: Cache, locks: Locks, *, ttl: float = 600.0,
                 hold: float = 120.0) -> None:
        self.cache = cache
        self.locks = locks
        self.ttl = ttl
        self.hold = hold

    async def get_or_fetch(self, key: str,
                           fetch: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        try:
            async with self.locks.hold(f"share:{key}", ttl=self.hold, wait=self.hold):
                return await self._get_or_fetch(key, fetch)
        except LockTimeout:
            # Another worker has held it too long: do the work rather than stall the link.
            return await self._get_or_fetch(key, fetch)

    async def _get_or_fetch(self, key: str,
                            fetch: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        cached = await self._get(key)
        if cached is not None:
            return cached
        result = await fetch()
        await self._set(key, result)
        return result

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
            log.warning("result not shared: %s", exc)
