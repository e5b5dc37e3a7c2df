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

from linkarchive.engine.mailbox.base import DeadLetter, Envelope, Mailbox, QueueStats
from linkarchive.errors import MailboxUnavailable

__all__ = ["RedisMailbox"]

log = logging.getLogger("linkarchive.mailbox")

GROUP = "linkarchive"
LEVELS = 3
"""Priorities 0-2, 3-5 and 6-9 each get a stream; within one, messages keep arrival order."""

_PROMOTE_LIMIT = 500
_DEAD_PAGE = 500

_PRELUDE = """
local S = {KEYS[1], KEYS[2], KEYS[3]}
local DELAYED, WAITING, KEYMAP, DEAD, CURSOR = KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local GROUP, MSG = ARGV[1], ARGV[2]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Streams and their group are created together, before the first entry, so a group
-- never misses one; after a flush they come back on the next send or receive.
local function ensure()
  for i = 1, #S do
    if redis.call('EXISTS', S[i]) == 0 then
      redis.call('XGROUP', 'CREATE', S[i], GROUP, '0', 'MKSTREAM')
    end
  end
end

local function enqueue(id, priority)
  ensure()
  redis.call('XADD', S[math.min(math.floor(priority / 3), 2) + 1], '*', 'm', id)
end

local function leased(stream, entry, id, tries)
  if redis.call('HGET', MSG .. id, 'tries') ~= tries then return false end
  return #redis.call('XPENDING', stream, GROUP, entry, entry, 1) > 0
end

local function unlist(stream, entry)
  redis.call('XACK', stream, GROUP, entry)
  redis.call('XDEL', stream, entry)
end

local function forget(id)
  local key = redis.call('HGET', MSG .. id, 'key')
  if key and redis.call('HGET', KEYMAP, key) == id then redis.call('HDEL', KEYMAP, key) end
  redis.call('DEL', MSG .. id)
  redis.call('ZREM', WAITING, id)
end

local function deliver(level, entry, id)
  if not id or redis.call('EXISTS', MSG .. id) == 0 then
    unlist(S[level], entry)
    return nil
  end
  local msg = MSG .. id
  local tries = redis.call('HINCRBY', msg, 'tries', 1)
  redis.call('HDEL', msg, 'lease')
  redis.call('ZREM', WAITING, id)
  local m = redis.call('HMGET', msg, 'body', 'key', 'priority', 'enqueued')
  return {level - 1, entry, id, tries, m[1], m[2], m[3], m[4]}
end
"""

_SEND = _PRELUDE + """
local id, body, has_key, key = ARGV[3], ARGV[4], ARGV[5] == '1', ARGV[6]
local priority, enqueued, delay = tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
if has_key and redis.call('HSETNX', KEYMAP, key, id) == 0 then return 0 end
redis.call('HSET', MSG .. id, 'body', body, 'priority', priority, 'enqueued', enqueued,
           'tries', 0)
if has_key then redis.call('HSET', MSG .. id, 'key', key) end
redis.call('ZADD', WAITING, enqueued, id)
if delay > 0 then
  redis.call('ZADD', DELAYED, now_ms() + delay, id)
else
  enqueue(id, priority)
end
return 1
"""

_TAKE = _PRELUDE + """
local consumer, want, vt, promote = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local now = now_ms()
ensure()
for _, id in ipairs(redis.call('ZRANGEBYSCORE', DELAYED, '-inf', now, 'LIMIT', 0, promote)) do
  redis.call('ZREM', DELAYED, id)
  local priority = redis.call('HGET', MSG .. id, 'priority')
  if priority then enqueue(id, tonumber(priority)) end
end
-- Entries a blocking read has just leased to us, by level: they compete with the rest by
-- priority, and those that do not fit go back to their stream uncounted.
local held = {}
for i = 7, #ARGV, 3 do
  local level = tonumber(ARGV[i]) + 1
  held[level] = held[level] or {}
  table.insert(held[level], {ARGV[i + 1], ARGV[i + 2]})
end
local out = {}
local function add(level, entry, id)
  local row = deliver(level, entry, id)
  if row then out[#out + 1] = row end
end
for level = 1, #S do
  if #out < want then
    -- A resumable cursor, so long-held leases at the head of the list do not hide
    -- expired ones behind them.
    local claimed = redis.call('XAUTOCLAIM', S[level], GROUP, consumer, vt,
                               redis.call('HGET', CURSOR, level) or '0-0', 'COUNT', want - #out)
    redis.call('HSET', CURSOR, level, claimed[1])
    for _, e in ipairs(claimed[2]) do
      local id = e[2] and e[2][2]
      local lease = id and tonumber(redis.call('HGET', MSG .. id, 'lease'))
      if lease and lease > now then
        -- Extended past the visibility timeout: idle it again until its lease ends.
        redis.call('XCLAIM', S[level], GROUP, consumer, 0, e[1],
                   'IDLE', math.max(0, vt - (lease - now)), 'JUSTID')
      else
        add(level, e[1], id)
      end
    end
  end
  for _, h in ipairs(held[level] or {}) do
    local priority = redis.call('HGET', MSG .. h[2], 'priority')
    if #out < want or not priority then
      add(level, h[1], h[2])
    else
      unlist(S[level], h[1])
      enqueue(h[2], tonumber(priority))
    end
  end
  if #out < want then
    local read = redis.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', want - #out,
                            'STREAMS', S[level], '>')
    if read then
      for _, e in ipairs(read[1][2]) do add(level, e[1], e[2][2]) end
    end
  end
end
return out
"""

# The lease scripts share their first arguments: level, entry, message id, delivery count.
_LEASE = _PRELUDE + """
local stream, entry, id, tries = S[tonumber(ARGV[3]) + 1], ARGV[4], ARGV[5], ARGV[6]
if not leased(stream, entry, id, tries) then return 0 end
"""

_ACK = _LEASE + """
unlist(stream, entry)
forget(id)
return 1
"""

_RETRY = _LEASE + """
local delay = tonumber(ARGV[7])
unlist(stream, entry)
redis.call('HDEL', MSG .. id, 'lease')
redis.call('ZADD', WAITING, redis.call('HGET', MSG .. id, 'enqueued'), id)
if delay > 0 then
  redis.call('ZADD', DELAYED, now_ms() + delay, id)
else
  enqueue(id, tonumber(redis.call('HGET', MSG .. id, 'priority')))
end
return 1
"""

_RELEASE = _LEASE + """
unlist(stream, entry)
local msg = MSG .. id
if tonumber(redis.call('HGET', msg, 'tries')) > 0 then redis.call('HINCRBY', msg, 'tries', -1) end
redis.call('HDEL', msg, 'lease')
redis.call('ZADD', WAITING, redis.call('HGET', msg, 'enqueued'), id)
enqueue(id, tonumber(redis.call('HGET', msg, 'priority')))
return 1
"""

_EXTEND = _LEASE + """
local consumer, vt, seconds = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
redis.call('HSET', MSG .. id, 'lease', now_ms() + seconds)
redis.call('XCLAIM', stream, GROUP, consumer, 0, entry,
           'IDLE', math.max(0, vt - seconds), 'JUSTID')
return 1
"""

_DEAD_LETTER = _LEASE + """
local m = redis.call('HMGET', MSG .. id, 'body', 'key')
local fields = {'id', id, 'body', m[1], 'attempts', tries, 'reason', ARGV[7],
                'failed_at', ARGV[8]}
if m[2] then
  fields[#fields + 1] = 'key'
  fields[#fields + 1] = m[2]
end
redis.call('XADD', DEAD, 'MAXLEN', '~', ARGV[9], '*', unpack(fields))
unlist(stream, entry)
forget(id)
return 1
"""

_REQUEUE = _PRELUDE + """
local now, count = ARGV[3], 0
for i = 4, #ARGV do
  local found = redis.call('XRANGE', DEAD, ARGV[i], ARGV[i])
  if #found > 0 then
    redis.call('XDEL', DEAD, ARGV[i])
    count = count + 1
    local f = {}
    for j = 1, #found[1][2], 2 do f[found[1][2][j]] = found[1][2][j + 1] end
    local msg = MSG .. f.id
    local taken = f.key and redis.call('HSETNX', KEYMAP, f.key, f.id) == 0
    if not taken and redis.call('EXISTS', msg) == 0 then
      redis.call('HSET', msg, 'body', f.body, 'priority', 0, 'enqueued', now, 'tries', 0)
      if f.key then redis.call('HSET', msg, 'key', f.key) end
      redis.call('ZADD', WAITING, now, f.id)
      enqueue(f.id, 0)
    end
  end
end
return count
"""

_STATS = _PRELUDE + """
local now = now_ms()
local ready, in_flight = 0, 0
for i = 1, #S do
  if redis.call('EXISTS', S[i]) == 1 then
    local pending = redis.call('XPENDING', S[i], GROUP)[1]
    in_flight = in_flight + pending
    ready = ready + redis.call('XLEN', S[i]) - pending
  end
end
local due = redis.call('ZCOUNT', DELAYED, '-inf', now)
local oldest = redis.call('ZRANGE', WAITING, 0, 0, 'WITHSCORES')
return {ready + due, redis.call('ZCARD', DELAYED) - due, in_flight, redis.call('XLEN', DEAD),
        oldest[2] or ''}
"""

_PURGE_ALL = _PRELUDE + """
local count = redis.call('XLEN', DEAD)
redis.call('DEL', DEAD)
return count
"""

_RETIRE = _PRELUDE + """
local consumer = ARGV[3]
for i = 1, #S do
  if redis.call('EXISTS', S[i]) == 1
      and #redis.call('XPENDING', S[i], GROUP, '-', '+', 1, consumer) == 0 then
    redis.call('XGROUP', 'DELCONSUMER', S[i], GROUP, consumer)
  end
end
return 1
"""

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
            ("send", _SEND), ("take", _TAKE), ("ack", _ACK),
            ("retry", _RETRY), ("release", _RELEASE), ("extend", _EXTEND),
            ("dead_letter", _DEAD_LETTER), ("requeue", _REQUEUE), ("stats", _STATS),
            ("purge_all", _PURGE_ALL), ("retire", _RETIRE))}
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
