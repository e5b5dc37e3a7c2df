"""The in-process cache: one LRU with TTLs, bounded by entry count, for a single process."""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from linkarchive.errors import InvalidInput
from linkarchive.storage.cache.base import Cache

__all__ = ["MemoryCache"]

_VALUE = "v"
_GENERATION = "g"


def _now_micros() -> int:
    return time.time_ns() // 1000


class MemoryCache(Cache):
    """At most ``max_entries`` values and generation counters, least recently used evicted."""

    def __init__(self, max_entries: int = 10_000) -> None:
        super().__init__()
        if max_entries < 1:
            raise InvalidInput("a memory cache needs room for at least one entry")
        self.max_entries = max_entries
        # (kind, name) -> (monotonic deadline, payload). Counters share the bound with values:
        # evicting one is safe because a restarted counter is above every number issued before.
        self._entries: OrderedDict[tuple[str, str], tuple[float, bytes | int]] = OrderedDict()
        self._generation_floor = 0  # the highest generation this cache has answered

    def __len__(self) -> int:
        return len(self._entries)

    async def ping(self) -> None:
        """Always reachable."""

    async def aclose(self) -> None:
        self._entries.clear()

    def _lookup(self, entry: tuple[str, str]) -> bytes | int | None:
        found = self._entries.get(entry)
        if found is None:
            return None
        deadline, payload = found
        if deadline <= time.monotonic():
            del self._entries[entry]
            return None
        self._entries.move_to_end(entry)
        return payload

    def _store(self, entry: tuple[str, str], payload: bytes | int, deadline: float) -> None:
        self._entries[entry] = (deadline, payload)
        self._entries.move_to_end(entry)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def _get(self, key: str) -> bytes | None:
        value = self._lookup((_VALUE, key))
        return value if isinstance(value, bytes) else None

    async def _set(self, key: str, value: bytes, ttl: float) -> None:
        self._store((_VALUE, key), value, time.monotonic() + ttl)

    async def _delete(self, key: str) -> None:
        self._entries.pop((_VALUE, key), None)

    def _counter(self, user_id: str, step: int) -> int:
        current = self._lookup((_GENERATION, user_id))
        if isinstance(current, int):
            generation = current + step
        else:
            # The wall clock may step back; the floor keeps numbers rising regardless.
            generation = max(_now_micros(), self._generation_floor + 1)
        self._generation_floor = max(self._generation_floor, generation)
        self._store((_GENERATION, user_id), generation, math.inf)
        return generation

    async def _read_generation(self, user_id: str) -> int | None:
        return self._counter(user_id, 0)

    async def _bump_generation(self, user_id: str) -> int:
        return self._counter(user_id, 1)
