"""Restart intensity: how many actor crashes a process tolerates before it gives up."""

from __future__ import annotations

import time
from collections import deque

from linkarchive.errors import LinkArchiveError

__all__ = ["EngineCrashed", "RestartBudget"]


class EngineCrashed(LinkArchiveError):
    """Actors crashed more often than the restart intensity allows."""


class RestartBudget:
    """At most ``max_restarts`` crashes within ``window`` seconds; one more raises EngineCrashed."""

    def __init__(self, max_restarts: int, window: float) -> None:
        self.max_restarts = max_restarts
        self.window = window
        self._crashes: deque[float] = deque()

    def record(self, who: str, exc: BaseException) -> None:
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and self._crashes[0] < now - self.window:
            self._crashes.popleft()
        if len(self._crashes) > self.max_restarts:
            raise EngineCrashed(
                f"{who} crashed {len(self._crashes)} times within {self.window:g}s "
                f"(limit {self.max_restarts}); last error: {type(exc).__name__}: {exc}") from exc
