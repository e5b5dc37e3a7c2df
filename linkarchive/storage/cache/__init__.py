"""Caches: in-process LRU (embedded default) or Redis, behind one contract."""

from __future__ import annotations

from linkarchive.config import Settings
from linkarchive.storage.cache.base import Cache, CacheStats, user_key
from linkarchive.storage.cache.memory import MemoryCache

__all__ = ["Cache", "CacheStats", "MemoryCache", "open_cache", "user_key"]


def open_cache(settings: Settings) -> Cache:
    """Redis when ``redis_url`` is set, else an in-process LRU."""
    storage = settings.storage
    if not storage.redis_url:
        return MemoryCache()
    # Imported here so that the embedded default never loads redis.
    from linkarchive.storage.cache.redis import RedisCache

    return RedisCache(storage.redis_url, prefix=f"{storage.redis_prefix}cache:")
