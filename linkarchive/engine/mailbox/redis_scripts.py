"""The Redis mailbox's Lua scripts: each step that must be atomic runs on the server.

Every script starts with ``PRELUDE`` (key helpers); the lease scripts check the receipt first.
"""

from __future__ import annotations

__all__ = ["ACK", "DEAD_LETTER", "EXTEND", "LEASE", "PURGE_ALL", "RELEASE", "REQUEUE", "RETIRE",
           "RETRY", "SEND", "STATS", "TAKE"]

PRELUDE = """
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

SEND = PRELUDE + """
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

TAKE = PRELUDE + """
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
LEASE = PRELUDE + """
local stream, entry, id, tries = S[tonumber(ARGV[3]) + 1], ARGV[4], ARGV[5], ARGV[6]
if not leased(stream, entry, id, tries) then return 0 end
"""

ACK = LEASE + """
unlist(stream, entry)
forget(id)
return 1
"""

RETRY = LEASE + """
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

RELEASE = LEASE + """
unlist(stream, entry)
local msg = MSG .. id
if tonumber(redis.call('HGET', msg, 'tries')) > 0 then redis.call('HINCRBY', msg, 'tries', -1) end
redis.call('HDEL', msg, 'lease')
redis.call('ZADD', WAITING, redis.call('HGET', msg, 'enqueued'), id)
enqueue(id, tonumber(redis.call('HGET', msg, 'priority')))
return 1
"""

EXTEND = LEASE + """
local consumer, vt, seconds = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
redis.call('HSET', MSG .. id, 'lease', now_ms() + seconds)
redis.call('XCLAIM', stream, GROUP, consumer, 0, entry,
           'IDLE', math.max(0, vt - seconds), 'JUSTID')
return 1
"""

DEAD_LETTER = LEASE + """
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

REQUEUE = PRELUDE + """
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

STATS = PRELUDE + """
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

PURGE_ALL = PRELUDE + """
local count = redis.call('XLEN', DEAD)
redis.call('DEL', DEAD)
return count
"""

RETIRE = PRELUDE + """
local consumer = ARGV[3]
for i = 1, #S do
  if redis.call('EXISTS', S[i]) == 1
      and #redis.call('XPENDING', S[i], GROUP, '-', '+', 1, consumer) == 0 then
    redis.call('XGROUP', 'DELCONSUMER', S[i], GROUP, consumer)
  end
end
return 1
"""
