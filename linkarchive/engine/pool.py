"""An actor pool: a pump from the durable mailbox into a bounded channel, and N actors.

The pump owns the only send end; each actor holds a receive clone. A full channel stops the
pump, so backpressure reaches the mailbox. Every envelope the pool holds (buffered or being
handled) has its lease extended by the pool's keeper, so slow work is not delivered twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from linkarchive.engine.mailbox.base import (
    DeadLetterHook,
    Envelope,
    Mailbox,
    Retry,
    backoff_delay,
)
from linkarchive.engine.restarts import RestartBudget
from linkarchive.errors import ProcessingError, UnavailableError
from linkarchive.metrics import DEAD_LETTERS, RETRIES

__all__ = ["ActorSpec", "Pool", "PoolStats"]

log = logging.getLogger("linkarchive.engine")

Handler = Callable[[Envelope], Awaitable[None]]

_OUTAGE_BACKOFF = {"base": 0.2, "cap": 5.0}


@dataclass(frozen=True, kw_only=True)
class ActorSpec:
    """What a pool runs: ``handler`` for each message of ``queue``, ``concurrency`` at a time.

    The handler acknowledges by returning; it raises ``Retry`` (or a transient
    ProcessingError) to be tried again later, a permanent ProcessingError to dead-letter.
    Any other exception crashes the actor, which is restarted; the message is retried.
    """

    queue: str
    handler: Handler
    concurrency: int = 1
    timeout: float = 120.0
    batch: int = 16
    on_dead_letter: DeadLetterHook | None = None
    """Called when a message's deliveries are used up (retries, timeouts, crashes, or the
    process dying mid-message), so what it was for can be settled."""


@dataclass(frozen=True, kw_only=True)
class PoolStats:
    queue: str
    concurrency: int
    buffered: int
    in_flight: int
    handled: int
    retried: int
    dead_lettered: int
    restarts: int


@dataclass(kw_only=True)
class _State:
    handled: int = 0
    retried: int = 0
    dead_lettered: int = 0
    restarts: int = 0
    held: dict[str, Envelope] = field(default_factory=dict)
    running: dict[str, anyio.CancelScope] = field(default_factory=dict)


class Pool:
    """Runs one ActorSpec against a mailbox; ``stop()`` ends intake and drains."""

    def __init__(self, spec: ActorSpec, mailbox: Mailbox, restarts: RestartBudget) -> None:
        self.spec = spec
        self.mailbox = mailbox
        self._restarts = restarts
        self._state = _State()
        self._stopping = anyio.Event()
        self._cancelled = False

    def statistics(self) -> PoolStats:
        s = self._state
        return PoolStats(queue=self.spec.queue, concurrency=self.spec.concurrency,
                         buffered=len(s.held) - len(s.running), in_flight=len(s.running),
                         handled=s.handled, retried=s.retried, dead_lettered=s.dead_lettered,
                         restarts=s.restarts)

    def stop(self) -> None:
        """Stop taking messages; buffered ones go back, in-flight ones may finish."""
        self._stopping.set()

    def cancel_in_flight(self) -> None:
        """The grace period is over: cancel running handlers; their messages go back."""
        self._cancelled = True
        for scope in self._state.running.values():
            scope.cancel()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        send, receive = anyio.create_memory_object_stream[Envelope](self.spec.concurrency)
        async with anyio.create_task_group() as keeper:
            keeper.start_soon(self._keep_leases)
            async with anyio.create_task_group() as actors:
                with receive:
                    for slot in range(self.spec.concurrency):
                        actors.start_soon(self._actor, slot, receive.clone())
                task_status.started()
                await self._pump(send)
            # The channel is closed and every actor has drained it.
            keeper.cancel_scope.cancel()

    async def _pump(self, send: MemoryObjectSendStream[Envelope]) -> None:
        failures = 0
        with send:
            while not self._stopping.is_set():
                # Lease no more than the actors can start soon: in-flight plus one buffer.
                room = max(1, 2 * self.spec.concurrency - len(self._state.held))
                try:
                    envelopes = await self.mailbox.receive(
                        self.spec.queue, max_messages=min(self.spec.batch, room), timeout=1.0,
                        on_dead_letter=self.spec.on_dead_letter)
                    failures = 0
                except UnavailableError as exc:
                    failures += 1
                    delay = backoff_delay(failures, **_OUTAGE_BACKOFF)
                    log.warning("mailbox unavailable for %s; next try in %.1fs: %s",
                                self.spec.queue, delay, exc)
                    with anyio.move_on_after(delay):
                        await self._stopping.wait()
                    continue
                for envelope in envelopes:
                    self._state.held[envelope.id] = envelope
                    await send.send(envelope)

    async def _actor(self, slot: int, receive: MemoryObjectReceiveStream[Envelope]) -> None:
        with receive:
            while True:
                try:
                    async for envelope in receive:
                        await self._handle(envelope)
                    return
                except Exception as exc:
                    self._state.restarts += 1
                    # Raises EngineCrashed once the restart intensity is exceeded.
                    self._restarts.record(f"{self.spec.queue} actor {slot}", exc)
                    log.exception("actor %s/%d crashed; restarting it", self.spec.queue, slot)

    async def _handle(self, envelope: Envelope) -> None:
        state = self._state
        crash: Exception | None = None
        try:
            if self._stopping.is_set() or self._cancelled:
                outcome: tuple[str, Any] = ("release", None)
            else:
                scope = state.running[envelope.id] = anyio.CancelScope()
                try:
                    with scope:
                        outcome = await self._run_handler(envelope)
                    if scope.cancelled_caught:
                        outcome = ("release", None)
                except Exception as exc:
                    outcome = ("retry", (f"crashed: {type(exc).__name__}: {exc}", None))
                    crash = exc
                finally:
                    del state.running[envelope.id]
            await self._settle(envelope, *outcome)
        finally:
            state.held.pop(envelope.id, None)
        if crash is not None:
            raise crash

    async def _run_handler(self, envelope: Envelope) -> tuple[str, Any]:
        try:
            with anyio.fail_after(self.spec.timeout):
                await self.spec.handler(envelope)
        except TimeoutError:
            return "retry", (f"timed out after {self.spec.timeout:g}s", None)
        except Retry as exc:
            return "retry", (str(exc), exc.delay)
        except UnavailableError as exc:
            # A backend outage is nobody's bug: wait it out instead of counting a crash.
            return "retry", (str(exc), None)
        except ProcessingError as exc:
            if exc.transient:
                return "retry", (str(exc), exc.retry_after)
            return "dead", str(exc)
        return "ack", None

    async def _settle(self, envelope: Envelope, outcome: str, detail: Any) -> None:
        """Record the outcome in the mailbox, riding out an outage with capped backoff."""
        state = self._state
        failures = 0
        while True:
            try:
                with anyio.CancelScope(shield=True):
                    if outcome == "ack":
                        await self.mailbox.ack(envelope)
                        state.handled += 1
                    elif outcome == "release":
                        await self.mailbox.release(envelope)
                    elif outcome == "dead":
                        await self.mailbox.dead_letter(envelope, detail)
                        state.dead_lettered += 1
                        DEAD_LETTERS.labels(self.spec.queue).inc()
                    else:
                        reason, delay = detail
                        if await self.mailbox.retry(envelope, reason, delay=delay) is None:
                            state.dead_lettered += 1
                            DEAD_LETTERS.labels(self.spec.queue).inc()
                            await self._given_up(envelope, reason)
                        else:
                            state.retried += 1
                            RETRIES.labels(self.spec.queue).inc()
                return
            except UnavailableError as exc:
                failures += 1
                if self._stopping.is_set() and failures >= 3:
                    # Shutting down: the lease lapses and the message is delivered again.
                    log.warning("giving %s back to %s by lease expiry: %s",
                                envelope.id, self.spec.queue, exc)
                    return
                delay = backoff_delay(failures, **_OUTAGE_BACKOFF)
                log.warning("mailbox unavailable settling %s on %s; next try in %.1fs: %s",
                            envelope.id, self.spec.queue, delay, exc)
                await anyio.sleep(delay)

    async def _given_up(self, envelope: Envelope, reason: str) -> None:
        """Its deliveries are used up: let the spec settle what the message was for."""
        if self.spec.on_dead_letter is None:
            return
        try:
            await self.spec.on_dead_letter(envelope, reason)
        except UnavailableError as exc:
            log.warning("could not settle dead-lettered %s on %s: %s",
                        envelope.id, self.spec.queue, exc)

    async def _keep_leases(self) -> None:
        period = max(0.1, self.mailbox.visibility_timeout / 3)
        while True:
            await anyio.sleep(period)
            for envelope in list(self._state.held.values()):
                try:
                    await self.mailbox.extend(envelope)
                except UnavailableError as exc:
                    log.warning("cannot extend leases on %s: %s", self.spec.queue, exc)
                    break
