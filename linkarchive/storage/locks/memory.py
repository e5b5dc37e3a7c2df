"""Named locks inside one process: an anyio lock per name, forgotten when nobody uses it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from linkarchive.storage.locks.base import Locks, LockTimeout

__all__ = ["MemoryLocks"]


class MemoryLocks(Locks):
    """A holder in this process cannot die without releasing, so ``ttl`` needs no enforcement."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[anyio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, name: str, *, ttl: float = 60.0,
                   wait: float = 60.0) -> AsyncIterator[None]:
        lock, users = self._locks.get(name, (anyio.Lock(), 0))
        self._locks[name] = (lock, users + 1)
        try:
            with anyio.move_on_after(wait) as waited:
                await lock.acquire()
            if waited.cancelled_caught:
                raise LockTimeout(f"{name} stayed locked for over {wait:g}s")
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[name]
            if users <= 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)
