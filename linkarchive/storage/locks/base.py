"""The named-lock contract.

- ``hold(name, ttl)`` is an async context manager: while it is held no other holder of the same
  name (in this process or, for shared backends, any process) is inside it.
- A lock always expires ``ttl`` seconds after it was taken, so a holder that died never blocks
  the name for longer than that; a holder must finish well within its ``ttl``.
- Waiting is bounded: after ``wait`` seconds ``hold`` raises ``LockTimeout``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager

from linkarchive.errors import UnavailableError

__all__ = ["LockTimeout", "Locks"]


class LockTimeout(UnavailableError):
    """The lock stayed taken for longer than the caller would wait."""


class Locks(ABC):
    """Named mutual exclusion with expiry; see the module docstring for the guarantees."""

    @abstractmethod
    def hold(self, name: str, *, ttl: float = 60.0,
             wait: float = 60.0) -> AbstractAsyncContextManager[None]:
        """Hold ``name`` for the block (at most ``ttl`` seconds)."""

    async def aclose(self) -> None:  # noqa: B027 - only shared backends hold connections
        """Release connections."""

    async def __aenter__(self) -> Locks:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


