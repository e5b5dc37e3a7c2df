"""The Redis mailbox: one stream and consumer group per priority level of a queue.

Every message is a hash (body, key, priority, enqueued time, delivery count, lease); the streams
only say which messages are ready, in order, and hold nothing else: an entry is acknowledged and
deleted as soon as its message is acked, retried, released or dead-lettered. Delayed messages
wait in a sorted set scored by the server's clock and are moved into their stream by the
receiving script. Every change that touches more than one key is a Lua script, so it is atomic.
A queue's keys share a hash tag (``{queue}``); scripts reach a message's hash from its id.

A receipt names the stream entry and the delivery count, so a delivery that was reclaimed,
retried or released no longer matches and its late ack is ignored.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from linkarchive.engine.mailbox import redis_scripts as lua
from linkarchive.engine.mailbox.base import DeadLetter, Envelope, Mailbox, QueueStats
from linkarchive.errors import MailboxUnavailable

__all__ = ["RedisMailbox"]

log = logging.getLogger("linkarchive.mailbox")

GROUP = "linkarchive"
LEVELS = 3
"""Priorities 0-2, 3-5 and 6-9 each get a stream; within one, messages keep arrival order."""

_PROMOTE_LIMIT = 500
_DEAD_PAGE = 500


_UNREACHABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError,
                redis_errors.BusyLoadingError, OSError)


@contextmanager
def _wrap_errors() -> Iterator[None]:
    try:
        yield
    except _UNREACHABLE as exc:
        raise MailboxUnavailable(f"Redis: {exc}") from exc


@dataclass(frozen=True)
class _Keys:
    """The keys of one queue, in the order every script takes them."""

    streams: tuple[str, ...]
    script_keys: tuple[str, ...]
    dead: str
    message: str

    @classmethod
    def of(cls, prefix: str, queue: str) -> _Keys:
        base = f"{prefix}{{{queue}}}:"
        streams = tuple(f"{base}ready:{level}" for level in range(LEVELS))
        named = tuple(base + name for name in ("delayed", "waiting", "keys", "dead", "cursor"))
        return cls(streams=streams, script_keys=streams + named, dead=base + "dead",
                   message=base + "msg:")


def _default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class RedisMailbox(Mailbox):
    """Shared by every process that uses the same Redis and ``prefix``; each process is one
    consumer of each queue's groups, and survives Redis restarts by reconnecting."""

    def __init__(self, client: Redis, *, prefix: str = "linkarchive:",
                 consumer: str | None = None, dead_letter_limit: int = 10_000,
                 block_slice: float = 0.5, **options: Any) -> None:
        super().__init__(**options)
        self.client = client
        self.prefix = prefix
        self.consumer = consumer or _default_consumer()
        self.dead_letter_limit = dead_letter_limit
        self.block_slice = block_slice
        self._keys: dict[str, _Keys] = {}
        scripts = {name: client.register_script(source) for name, source in (
            ("send", lua.SEND), ("take", lua.TAKE), ("ack", lua.ACK),
            ("retry", lua.RETRY), ("release", lua.RELEASE), ("extend", lua.EXTEND),
            ("dead_letter", lua.DEAD_LETTER), ("requeue", lua.REQUEUE), ("stats", lua.STATS),
            ("purge_all", lua.PURGE_ALL), ("retire", lua.RETIRE))}
        self._scripts: dict[str, AsyncScript] = scripts

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "linkarchive:", consumer: str | None = None,
                 socket_timeout: float = 5.0, **options: Any) -> RedisMailbox:
        """A mailbox on its own client; blocking reads are sliced well under
        ``socket_timeout``, which bounds every call."""
        # One immediate retry on a broken connection: after a Redis restart the pool's
        # sockets are dead and the first call reconnects instead of failing.
        client = Redis.from_url(url, decode_responses=True, socket_timeout=socket_timeout,
                                socket_connect_timeout=socket_timeout,
                                retry=Retry(NoBackoff(), 1, (redis_errors.ConnectionError,)))
        options.setdefault("block_slice", min(0.5, socket_timeout / 4))
        return cls(client, prefix=prefix, consumer=consumer, **options)

    def _keys_of(self, queue: str) -> _Keys:
        keys = self._keys.get(queue)
        if keys is None:
            keys = self._keys[queue] = _Keys.of(self.prefix, queue)
        return keys

    async def _run(self, script: str, queue: str, *args: Any) -> Any:
        keys = self._keys_of(queue)
        with _wrap_errors():
            return await self._scripts[script](keys=keys.script_keys,
                                               args=[GROUP, keys.message, *args])

    def _envelopes(self, queue: str, rows: list[list[Any]]) -> list[Envelope]:
        return [Envelope(id=id_, queue=queue, body=orjson.loads(body), attempts=int(tries),
                         enqueued_at=float(enqueued), key=key, priority=int(priority),
                         receipt=f"{level} {entry} {tries}")
                for level, entry, id_, tries, body, key, priority, enqueued in rows]

    @staticmethod
    def _lease(envelope: Envelope) -> list[str] | None:
        """Level, entry and delivery count from the receipt; None for one that is not ours."""
        parts = envelope.receipt.split(" ")
        if len(parts) != 3:
            return None
        level, entry, tries = parts
        return [level, entry, envelope.id, tries]

    async def _on_lease(self, script: str, envelope: Envelope, *args: Any) -> None:
        lease = self._lease(envelope)
        if lease is not None:
            await self._run(script, envelope.queue, *lease, *args)

    # -- primitives ---------------------------------------------------------------------------

    async def _send(self, queue: str, body: dict[str, Any], *, key: str | None, delay: float,
                    priority: int) -> str | None:
        message_id = uuid.uuid4().hex
        sent = await self._run("send", queue, message_id, orjson.dumps(body),
                               "0" if key is None else "1", key or "", priority,
                               repr(time.time()), round(delay * 1000))
        return message_id if sent else None

    async def _receive(self, queue: str, max_messages: int,
                       timeout: float) -> list[Envelope]:  # noqa: ASYNC109 (the contract's)
        deadline = anyio.current_time() + timeout
        streams = self._keys_of(queue).streams
        held: list[Any] = []
        while True:
            rows = await self._run("take", queue, self.consumer, max_messages,
                                   round(self.visibility_timeout * 1000), _PROMOTE_LIMIT,
                                   *held)
            remaining = deadline - anyio.current_time()
            if rows or remaining <= 0:
                return self._envelopes(queue, rows)
            # Blocking in slices, so due delayed messages and expired leases are seen too.
            block = max(1, round(min(remaining, self.block_slice) * 1000))
            try:
                with _wrap_errors():
                    read = await self.client.xreadgroup(
                        GROUP, self.consumer, dict.fromkeys(streams, ">"),
                        count=max_messages, block=block)
            except redis_errors.ResponseError as exc:
                # Redis lost its data (a restart without persistence, a flush) before or
                # while we blocked; the next take recreates the streams and their groups.
                if not str(exc).startswith(("NOGROUP", "UNBLOCKED")):
                    raise
                read = None
            held = [part for stream, entries in read or () for entry, fields in entries
                    for part in (streams.index(stream), entry, fields["m"])]

    async def _ack(self, envelope: Envelope) -> None:
        await self._on_lease("ack", envelope)

    async def _retry(self, envelope: Envelope, delay: float, reason: str) -> None:
        await self._on_lease("retry", envelope, round(delay * 1000))

    async def _dead_letter(self, envelope: Envelope, reason: str) -> None:
        await self._on_lease("dead_letter", envelope, reason, repr(time.time()),
                             self.dead_letter_limit)

    async def _release(self, envelope: Envelope) -> None:
        await self._on_lease("release", envelope)

    async def _extend(self, envelope: Envelope, seconds: float) -> None:
        await self._on_lease("extend", envelope, self.consumer,
                             round(self.visibility_timeout * 1000), round(seconds * 1000))

    # -- inspection and dead letters ----------------------------------------------------------

    async def stats(self, queue: str) -> QueueStats:
        ready, delayed, in_flight, dead, oldest = await self._run("stats", queue)
        return QueueStats(queue=queue, ready=ready, delayed=delayed, in_flight=in_flight,
                          dead=dead,
                          oldest_age=max(0.0, time.time() - float(oldest)) if oldest else 0.0)

    async def dead_letters(self, queue: str, *, limit: int = 100) -> Sequence[DeadLetter]:
        with _wrap_errors():
            entries = await self.client.xrevrange(self._keys_of(queue).dead, count=limit)
        return [DeadLetter(id=f["id"], queue=queue, body=orjson.loads(f["body"]),
                           attempts=int(f["attempts"]), reason=f["reason"],
                           failed_at=float(f["failed_at"]), key=f.get("key"))
                for _, f in entries]

    async def _dead_pages(self, queue: str, ids: Sequence[str] | None) -> list[list[str]]:
        """The dead stream's entry ids, in pages, of the letters with these message ids."""
        wanted = None if ids is None else set(ids)
        pages, start = [], "-"
        while True:
            with _wrap_errors():
                entries = await self.client.xrange(self._keys_of(queue).dead, min=start,
                                                   count=_DEAD_PAGE)
            page = [entry for entry, f in entries if wanted is None or f["id"] in wanted]
            if page:
                pages.append(page)
            if len(entries) < _DEAD_PAGE:
                return pages
            start = "(" + entries[-1][0]

    async def requeue_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        count = 0
        for page in await self._dead_pages(queue, ids):
            count += await self._run("requeue", queue, repr(time.time()), *page)
        return count

    async def purge_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        if ids is None:
            return await self._run("purge_all", queue)
        count = 0
        for page in await self._dead_pages(queue, ids):
            with _wrap_errors():
                count += await self.client.xdel(self._keys_of(queue).dead, *page)
        return count

    async def ping(self) -> None:
        with _wrap_errors():
            await self.client.ping()

    async def aclose(self) -> None:
        """Leave the groups of the queues this process read (when it holds nothing there),
        so consumer names do not pile up across restarts; then close the client."""
        try:
            for queue in self._keys:
                await self._run("retire", queue, self.consumer)
        except MailboxUnavailable as exc:
            log.info("could not leave the Redis consumer groups: %s", exc)
        finally:
            with _wrap_errors():
                await self.client.aclose()
