"""CPU-bound work runs in worker threads behind one limiter sized to the cores."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

__all__ = ["cpu_limiter", "run_cpu"]

T = TypeVar("T")

_limiter: anyio.CapacityLimiter | None = None


def cpu_limiter() -> anyio.CapacityLimiter:
    """The process-wide limiter for CPU work (created lazily inside the running loop)."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(max(1, os.cpu_count() or 1))
    return _limiter


async def run_cpu(function: Callable[..., T], *args: object) -> T:
    """Run ``function(*args)`` in a worker thread, never on the event loop."""
    return await anyio.to_thread.run_sync(function, *args, limiter=cpu_limiter())
