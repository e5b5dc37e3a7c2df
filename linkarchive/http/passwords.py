"""Password hashing with argon2id, off the event loop.

Hashing is deliberately slow and memory-hard, so it runs in worker threads behind a small
capacity limiter: a burst of logins queues up instead of exhausting memory or threads.
"""

from __future__ import annotations

import logging
import secrets

import anyio
import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Passwords"]

log = logging.getLogger("linkarchive.http.passwords")

# OWASP's argon2id baseline (2023): 19 MiB, 2 passes, 1 lane.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
MAX_THREADS = 4


class Passwords:
    """Hash and verify passwords; verifying for an unknown user costs as much as for a known
    one, so response times do not reveal which accounts exist."""

    def __init__(self, *, time_cost: int = TIME_COST, memory_cost: int = MEMORY_COST_KIB,
                 parallelism: int = PARALLELISM, max_threads: int = MAX_THREADS) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism,
            type=argon2.Type.ID)
        self._limiter = anyio.CapacityLimiter(max_threads)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        """An argon2id hash of ``password`` in PHC string form, with a fresh salt."""
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``; None (no such user) is always False,
        after the same work as a real check."""
        if stored_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
            await anyio.to_thread.run_sync(self._check, self._dummy_hash, password,
                                           limiter=self._limiter)
            return False
        return await anyio.to_thread.run_sync(self._check, stored_hash, password,
                                              limiter=self._limiter)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with other parameters (or is not argon2id): hash
        the password again after a successful login."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def _check(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except VerifyMismatchError:
            return False
        except (InvalidHashError, VerificationError):
            log.error("a stored password hash is malformed; the login is refused")
            return False
