"""The durable mailbox contract.

A mailbox holds messages for named queues until they are acknowledged. What callers may rely on:

- **At-least-once.** A received message is leased to the receiver for ``visibility_timeout``
  seconds. If it is neither acknowledged, retried, released nor extended in that time (the
  consumer died or hung), it is delivered again. Handlers must be idempotent.
- **No ordering** beyond "lower ``priority`` numbers first, then roughly oldest first".
- **Deliveries are counted by the mailbox** at receive time, so a message whose handler crashes
  the whole process still reaches the dead letters after ``max_deliveries`` deliveries.
- **Retries are delayed** with capped exponential backoff and jitter unless the handler names
  its own delay (a ``Retry-After``); the dead letter keeps the last reason.
- **Idempotent send:** a ``key`` already pending on the same queue is not queued twice.

Backends implement the underscore primitives; bookkeeping (attempts, backoff, the dead-letter
decision, logging) lives here once. Backend calls raise MailboxUnavailable when the store
cannot be reached; callers back off and try again.
"""

from __future__ import annotations

import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from linkarchive.errors import LinkArchiveError

__all__ = [
    "DeadLetter",
    "DeadLetterHook",
    "Envelope",
    "Mailbox",
    "QueueStats",
    "Retry",
    "backoff_delay",
]

log = logging.getLogger("linkarchive.mailbox")

BACKOFF_BASE = 2.0

DeadLetterHook = Callable[["Envelope", str], Awaitable[None]]
BACKOFF_CAP = 300.0


def backoff_delay(attempt: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds before retry number ``attempt`` (1-based): exponential, capped, full jitter over
    the upper half so that a crowd of failures spreads out but never retries at once."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + random.random() * ceiling / 2


class Retry(LinkArchiveError):
    """The handler asks for the message to be delivered again later."""

    def __init__(self, reason: str = "retry requested", *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """One delivery of a message. ``attempts`` counts deliveries including this one."""

    id: str
    queue: str
    body: Mapping[str, Any]
    attempts: int
    enqueued_at: float
    key: str | None = None
    priority: int = 0
    receipt: str = field(default="", repr=False)
    """Backend token proving this delivery's lease; stale receipts are ignored on ack."""


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    id: str
    queue: str
    body: Mapping[str, Any]
    attempts: int
    reason: str
    failed_at: float
    key: str | None = None


@dataclass(frozen=True, kw_only=True)
class QueueStats:
    """A snapshot of one queue: ``ready`` can be received now, ``delayed`` waits for a retry time,
    ``in_flight`` is leased; ``oldest_age`` is the age in seconds of the oldest waiting message."""

    queue: str
    ready: int
    delayed: int
    in_flight: int
    dead: int
    oldest_age: float

    @property
    def depth(self) -> int:
        return self.ready + self.delayed + self.in_flight


class Mailbox(ABC):
    """A durable, at-least-once mailbox; see the module docstring for the contract."""

    def __init__(self, *, visibility_timeout: float = 60.0, max_deliveries: int = 3) -> None:
        self.visibility_timeout = visibility_timeout
        self.max_deliveries = max_deliveries

    # -- public API ---------------------------------------------------------------------------

    async def send(self, queue: str, body: Mapping[str, Any], *, key: str | None = None,
                   delay: float = 0.0, priority: int = 0) -> str | None:
        """Queue a message; answer its id, or None when ``key`` is already pending there."""
        return await self._send(queue, dict(body), key=key, delay=max(0.0, delay),
                                priority=max(0, min(priority, 9)))

    async def receive(self, queue: str, *, max_messages: int = 1, timeout: float = 1.0,
                      on_dead_letter: DeadLetterHook | None = None) -> list[Envelope]:
        """Lease up to ``max_messages``, waiting at most ``timeout`` seconds for the first.

        Messages whose deliveries are used up are dead-lettered here instead, and
        ``on_dead_letter(envelope, reason)`` lets the caller settle what they were for.
        """
        envelopes = await self._receive(queue, max_messages, timeout)
        live = []
        for envelope in envelopes:
            if envelope.attempts > self.max_deliveries:
                reason = (f"delivered {envelope.attempts - 1} times without being acknowledged "
                          "(the handler crashed or timed out)")
                await self._dead_letter(envelope, reason)
                log.warning("dead-lettered %s on %s: %s", envelope.id, queue, reason)
                if on_dead_letter is not None:
                    await on_dead_letter(envelope, reason)
            else:
                live.append(envelope)
        return live

    async def ack(self, envelope: Envelope) -> None:
        """The message is done; it will not be delivered again."""
        await self._ack(envelope)

    async def retry(self, envelope: Envelope, reason: str, *,
                    delay: float | None = None) -> float | None:
        """Deliver again after ``delay`` (default: backoff), or dead-letter it when its
        deliveries are used up. Answers the delay, or None when it was dead-lettered."""
        if envelope.attempts >= self.max_deliveries:
            await self.dead_letter(envelope, reason)
            return None
        wait = backoff_delay(envelope.attempts) if delay is None else max(0.0, delay)
        await self._retry(envelope, wait, reason)
        log.info("retrying %s on %s in %.1fs (attempt %d): %s",
                 envelope.id, envelope.queue, wait, envelope.attempts, reason)
        return wait

    async def dead_letter(self, envelope: Envelope, reason: str) -> None:
        """Park the message with its reason; it is not delivered again until requeued."""
        await self._dead_letter(envelope, reason)
        log.warning("dead-lettered %s on %s after %d deliveries: %s",
                    envelope.id, envelope.queue, envelope.attempts, reason)

    async def release(self, envelope: Envelope) -> None:
        """Hand a message back unprocessed (shutdown): it is ready again and this delivery
        does not count."""
        await self._release(envelope)

    async def extend(self, envelope: Envelope, seconds: float | None = None) -> None:
        """Keep the lease for another ``seconds`` (default: the visibility timeout)."""
        await self._extend(envelope, self.visibility_timeout if seconds is None else seconds)

    @abstractmethod
    async def stats(self, queue: str) -> QueueStats:
        """Counts and the oldest waiting message's age."""

    @abstractmethod
    async def dead_letters(self, queue: str, *, limit: int = 100) -> Sequence[DeadLetter]:
        """The newest dead letters of a queue."""

    @abstractmethod
    async def requeue_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Send dead letters (all, or these ids) back with a fresh delivery count."""

    @abstractmethod
    async def purge_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Delete dead letters (all, or these ids)."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise MailboxUnavailable when the backend cannot be reached."""

    async def aclose(self) -> None:  # noqa: B027 - most backends hold nothing to close
        """Release connections; the mailbox is unusable afterwards."""

    async def __aenter__(self) -> Mailbox:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- backend primitives -------------------------------------------------------------------

    @abstractmethod
    async def _send(self, queue: str, body: dict[str, Any], *, key: str | None, delay: float,
                    priority: int) -> str | None: ...

    @abstractmethod
    async def _receive(self, queue: str, max_messages: int, timeout: float) -> list[Envelope]:
        """Lease messages, counting this delivery in ``attempts`` (over-delivered ones too)."""

    @abstractmethod
    async def _ack(self, envelope: Envelope) -> None: ...

    @abstractmethod
    async def _retry(self, envelope: Envelope, delay: float, reason: str) -> None:
        """Make the message ready again after ``delay``, keeping its delivery count."""

    @abstractmethod
    async def _dead_letter(self, envelope: Envelope, reason: str) -> None: ...

    @abstractmethod
    async def _release(self, envelope: Envelope) -> None:
        """Make it ready now and take this delivery off its count."""

    @abstractmethod
    async def _extend(self, envelope: Envelope, seconds: float) -> None: ...


def now() -> float:
    return time.time()
