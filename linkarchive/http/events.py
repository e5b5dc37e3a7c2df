"""Live events per user: the pipeline publishes, the WebSocket handler subscribes.

What callers may rely on, on every backend:

- **Events are JSON objects with a string ``type``** (``{"type": "link.updated", ...}``);
  ``publish`` raises ValueError or TypeError for anything else. Subscribers receive what JSON
  carries (datetimes become strings), a fresh object per publish, shared by its subscribers.
- **Best effort, at most once.** A subscriber sees the events published after ``subscribe``
  was entered (on Redis: once the bus is connected); nothing is kept for absent users, and an
  outage loses events. Clients catch up with ``/sync/pull``.
- **Nobody waits for a slow subscriber.** Each one has a bounded buffer; one that falls that
  far behind is dropped: its iteration ends and its ``dropped`` flag is set.
- ``publish`` does not raise when the backend is unavailable; it logs and drops the event.
- Use a bus as ``async with bus:``; leaving it ends every subscription.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import anyio
import orjson
from anyio.abc import TaskGroup

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["EventBus", "EventBusStatistics", "InProcessEventBus", "RedisEventBus", "Subscription"]

log = logging.getLogger("linkarchive.http.events")

Event = dict[str, Any]

DEFAULT_BUFFER = 64
RECONNECT_MIN = 0.2
RECONNECT_MAX = 10.0


def _encode(event: Mapping[str, Any]) -> bytes:
    if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
        raise ValueError("an event is a mapping with a string 'type'")
    return orjson.dumps(event)


@dataclass(frozen=True, kw_only=True)
class EventBusStatistics:
    users: int
    subscribers: int
    dropped: int
    """Subscribers dropped for falling behind, since the bus started."""


class Subscription:
    """One subscriber's events, as an async iterator; it ends when the subscriber is dropped
    (``dropped`` is then true) or the bus closes."""

    def __init__(self, user_id: str, buffer: int) -> None:
        self.user_id = user_id
        self.dropped = False
        self._send, self._receive = anyio.create_memory_object_stream[Event](buffer)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    def _offer(self, event: Event) -> bool:
        """Buffer ``event``; False if this subscriber has just been dropped for being full."""
        try:
            self._send.send_nowait(event)
        except anyio.WouldBlock:
            self.dropped = True
            self._send.close()  # what is buffered is still read, then the iteration ends
            return False
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        return True

    def _end(self) -> None:
        self._send.close()

    def _close(self) -> None:
        self._send.close()
        self._receive.close()


class EventBus(ABC):
    """Publish events to a user's live subscribers; see the module docstring for the contract."""

    @abstractmethod
    async def publish(self, user_id: str, event: Mapping[str, Any]) -> None:
        """Send ``event`` to every current subscriber of ``user_id``, anywhere."""

    @abstractmethod
    def subscribe(self, user_id: str) -> AbstractAsyncContextManager[Subscription]:
        """``async with bus.subscribe(user_id) as events: async for event in events: ...``"""

    @abstractmethod
    def statistics(self) -> EventBusStatistics:
        """A snapshot of this process's subscribers."""

    async def __aenter__(self) -> Self:
        return self

    @abstractmethod
    async def __aexit__(self, *exc_info: object) -> None: ...


class InProcessEventBus(EventBus):
    """Subscribers and publishers in this process, through bounded memory object streams."""

    def __init__(self, *, buffer: int = DEFAULT_BUFFER) -> None:
        if buffer < 1:
            raise ValueError("the per-subscriber buffer must hold at least one event")
        self._buffer = buffer
        self._subscribers: dict[str, set[Subscription]] = {}
        self._dropped = 0

    async def publish(self, user_id: str, event: Mapping[str, Any]) -> None:
        self.deliver(user_id, orjson.loads(_encode(event)))

    def deliver(self, user_id: str, event: Event) -> None:
        """Hand an already-checked event to this process's subscribers of ``user_id``."""
        for subscription in self._subscribers.get(user_id, ()):
            if not subscription._offer(event):
                self._dropped += 1
                log.info("dropped a live-events subscriber of user %s: %d events behind",
                         user_id, self._buffer)

    @asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(user_id, self._buffer)
        self._subscribers.setdefault(user_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(user_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(user_id, None)
            subscription._close()

    def statistics(self) -> EventBusStatistics:
        return EventBusStatistics(users=len(self._subscribers),
                                  subscribers=sum(map(len, self._subscribers.values())),
                                  dropped=self._dropped)

    async def __aexit__(self, *exc_info: object) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._end()


class RedisEventBus(EventBus):
    """Events through Redis pub/sub on one channel per user, ``{prefix}events:{user_id}``, so
    they cross processes. One pattern subscription per bus feeds this process's subscribers:
    joining and leaving cost no Redis round trip, and every process sees every user's events
    (fine for a handful of API processes). ``async with`` runs the reader, which reconnects."""

    def __init__(self, client: Redis, *, prefix: str, buffer: int = DEFAULT_BUFFER,
                 owns_client: bool = False) -> None:
        from redis.exceptions import RedisError  # redis is loaded only when configured

        self._client = client
        self._channel_prefix = f"{prefix}events:"
        self._owns_client = owns_client
        self._errors = (RedisError, OSError)
        self._local = InProcessEventBus(buffer=buffer)
        self._connected = anyio.Event()
        self._task_group: TaskGroup | None = None

    @classmethod
    def from_url(cls, url: str, *, prefix: str, buffer: int = DEFAULT_BUFFER,
                 timeout: float = 5.0) -> RedisEventBus:
        """A bus with its own client; ``timeout`` bounds connecting and publishing, and one
        immediate retry replaces a connection that went stale."""
        from redis.asyncio import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                retry=Retry(NoBackoff(), 1))
        return cls(client, prefix=prefix, buffer=buffer, owns_client=True)

    async def publish(self, user_id: str, event: Mapping[str, Any]) -> None:
        payload = _encode(event)
        try:
            await self._client.publish(self._channel_prefix + user_id, payload)
        except self._errors as exc:
            log.warning("live event for user %s dropped, Redis is unavailable: %s", user_id, exc)

    def subscribe(self, user_id: str) -> AbstractAsyncContextManager[Subscription]:
        return self._local.subscribe(user_id)

    def statistics(self) -> EventBusStatistics:
        return self._local.statistics()

    async def wait_connected(self) -> None:
        """Return once the bus receives from Redis (again, after an outage)."""
        await self._connected.wait()

    async def __aenter__(self) -> Self:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._task_group.start_soon(self._run)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._task_group is not None:
                self._task_group.cancel_scope.cancel()
                await self._task_group.__aexit__(None, None, None)
        finally:
            await self._local.__aexit__()
            if self._owns_client:
                await self._client.aclose()

    async def _run(self) -> None:
        delay = RECONNECT_MIN
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.psubscribe(self._channel_prefix + "*")
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self._connected.set()
                        delay = RECONNECT_MIN
                    elif message["type"] == "pmessage":
                        self._dispatch(message["channel"], message["data"])
            except self._errors as exc:
                log.warning("live events from Redis interrupted, retrying in %.1f s: %s",
                            delay, exc)
            finally:
                if self._connected.is_set():
                    self._connected = anyio.Event()
                with anyio.CancelScope(shield=True):
                    await pubsub.aclose()
            await anyio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        user_id = channel.decode()[len(self._channel_prefix):]
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            log.warning("ignored a live event for user %s that is not JSON", user_id)
            return
        self._local.deliver(user_id, event)
