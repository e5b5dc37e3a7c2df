"""Named locks: in-process by default, Redis-backed across processes when configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linkarchive.storage.locks.base import Locks
from linkarchive.storage.locks.memory import MemoryLocks

if TYPE_CHECKING:
    from linkarchive.config import Settings

__all__ = ["Locks", "MemoryLocks", "open_locks"]


def open_locks(settings: Settings) -> Locks:
    """Redis when ``redis_url`` is set (imported only then), else this process's locks."""
    if not settings.storage.redis_url:
        return MemoryLocks()
    from linkarchive.storage.locks.redis import RedisLocks

    return RedisLocks.from_url(settings.storage.redis_url,
                               prefix=f"{settings.storage.redis_prefix}lock:")
