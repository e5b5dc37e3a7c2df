"""An in-process mailbox for unit tests; held to the same contract suite as the durable ones."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import anyio

from linkarchive.engine.mailbox.base import DeadLetter, Envelope, Mailbox, QueueStats

__all__ = ["MemoryMailbox"]


@dataclass
class _Entry:
    envelope: Envelope
    available_at: float
    leased_until: float | None = None


class MemoryMailbox(Mailbox):
    """Messages live in dicts; a condition wakes blocked receivers on send."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._entries: dict[str, dict[str, _Entry]] = {}
        self._dead: dict[str, list[DeadLetter]] = {}
        self._order = itertools.count()
        self._wakeup = anyio.Event()

    def _queue(self, queue: str) -> dict[str, _Entry]:
        return self._entries.setdefault(queue, {})

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = anyio.Event()

    async def _send(self, queue: str, body: dict[str, Any], *, key: str | None, delay: float,
                    priority: int) -> str | None:
        entries = self._queue(queue)
        if key is not None and any(e.envelope.key == key for e in entries.values()):
            return None
        message_id = uuid.uuid4().hex
        envelope = Envelope(id=message_id, queue=queue, body=body, attempts=0,
                            enqueued_at=time.time(), key=key, priority=priority)
        entries[message_id] = _Entry(envelope, time.monotonic() + delay)
        self._notify()
        return message_id

    def _take(self, queue: str, max_messages: int) -> list[Envelope]:
        now = time.monotonic()
        ready = [e for e in self._queue(queue).values()
                 if e.available_at <= now and (e.leased_until is None or e.leased_until <= now)]
        ready.sort(key=lambda e: (e.envelope.priority, e.available_at))
        taken = []
        for entry in ready[:max_messages]:
            entry.envelope = replace(entry.envelope, attempts=entry.envelope.attempts + 1,
                                     receipt=str(next(self._order)))
            entry.leased_until = now + self.visibility_timeout
            taken.append(entry.envelope)
        return taken

    async def _receive(self, queue: str, max_messages: int, timeout: float) -> list[Envelope]:
        with anyio.move_on_after(timeout):
            while True:
                taken = self._take(queue, max_messages)
                if taken:
                    return taken
                with anyio.move_on_after(0.05):
                    await self._wakeup.wait()
        return self._take(queue, max_messages)

    def _leased(self, envelope: Envelope) -> _Entry | None:
        entry = self._queue(envelope.queue).get(envelope.id)
        if entry is None or entry.envelope.receipt != envelope.receipt:
            return None
        return entry

    async def _ack(self, envelope: Envelope) -> None:
        if self._leased(envelope):
            del self._queue(envelope.queue)[envelope.id]

    async def _retry(self, envelope: Envelope, delay: float, reason: str) -> None:
        entry = self._leased(envelope)
        if entry:
            entry.available_at = time.monotonic() + delay
            entry.leased_until = None
            entry.envelope = replace(entry.envelope, receipt="")

    async def _dead_letter(self, envelope: Envelope, reason: str) -> None:
        if self._leased(envelope) is None:
            return
        del self._queue(envelope.queue)[envelope.id]
        self._dead.setdefault(envelope.queue, []).append(DeadLetter(
            id=envelope.id, queue=envelope.queue, body=envelope.body, attempts=envelope.attempts,
            reason=reason, failed_at=time.time(), key=envelope.key))

    async def _release(self, envelope: Envelope) -> None:
        entry = self._leased(envelope)
        if entry:
            entry.available_at = time.monotonic()
            entry.leased_until = None
            entry.envelope = replace(entry.envelope, attempts=max(0, envelope.attempts - 1),
                                     receipt="")
            self._notify()

    async def _extend(self, envelope: Envelope, seconds: float) -> None:
        entry = self._leased(envelope)
        if entry:
            entry.leased_until = time.monotonic() + seconds

    async def stats(self, queue: str) -> QueueStats:
        now = time.monotonic()
        entries = list(self._queue(queue).values())
        in_flight = sum(1 for e in entries if e.leased_until and e.leased_until > now)
        delayed = sum(1 for e in entries if not (e.leased_until and e.leased_until > now)
                      and e.available_at > now)
        waiting = [e.envelope.enqueued_at for e in entries
                   if not (e.leased_until and e.leased_until > now)]
        return QueueStats(queue=queue, ready=len(entries) - in_flight - delayed, delayed=delayed,
                          in_flight=in_flight, dead=len(self._dead.get(queue, [])),
                          oldest_age=max(0.0, time.time() - min(waiting)) if waiting else 0.0)

    async def dead_letters(self, queue: str, *, limit: int = 100) -> Sequence[DeadLetter]:
        return list(reversed(self._dead.get(queue, [])))[:limit]

    def _pop_dead(self, queue: str, ids: Sequence[str] | None) -> list[DeadLetter]:
        dead = self._dead.get(queue, [])
        chosen = [d for d in dead if ids is None or d.id in ids]
        self._dead[queue] = [d for d in dead if d not in chosen]
        return chosen

    async def requeue_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        chosen = self._pop_dead(queue, ids)
        for letter in chosen:
            await self._send(queue, dict(letter.body), key=letter.key, delay=0.0, priority=0)
        return len(chosen)

    async def purge_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        return len(self._pop_dead(queue, ids))

    async def ping(self) -> None:
        return None
