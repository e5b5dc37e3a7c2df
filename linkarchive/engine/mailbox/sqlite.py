"""The embedded mailbox: a table in the application's SQLite database.

Because it is the same database, a caller can queue a message inside its own write transaction
(``send_within``): saving a link and queueing its job commit together or not at all.
A row's ``available_at`` is when it may be received next; while leased it is the lease deadline,
so reclaiming a dead consumer's messages needs no separate sweep.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import anyio
import orjson

from linkarchive.engine.mailbox.base import DeadLetter, Envelope, Mailbox, QueueStats
from linkarchive.storage.sqlite import SQLiteConnection, SQLiteDatabase

__all__ = ["SQLiteMailbox"]

_POLL_MIN = 0.02
_POLL_MAX = 0.5


def _envelope(row: Any) -> Envelope:
    return Envelope(id=row["id"], queue=row["queue"], body=orjson.loads(row["body"]),
                    attempts=row["attempts"], enqueued_at=row["enqueued_at"],
                    key=row["msg_key"], priority=row["priority"], receipt=row["receipt"] or "")


class SQLiteMailbox(Mailbox):
    """Durable across restarts; shared by every process that opens the same database file."""

    def __init__(self, database: SQLiteDatabase, **options: Any) -> None:
        super().__init__(**options)
        self.database = database
        self._wakeup = anyio.Event()

    async def send_within(self, connection: SQLiteConnection, queue: str, body: dict[str, Any], *,
                          key: str | None = None, delay: float = 0.0,
                          priority: int = 0) -> str | None:
        """Queue a message in the caller's write transaction; it exists once that commits."""
        message_id = uuid.uuid4().hex
        now = time.time()
        inserted = await connection.execute(
            "INSERT OR IGNORE INTO mailbox (id, queue, body, msg_key, priority, attempts,"
            " enqueued_at, available_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (message_id, queue, orjson.dumps(body), key, priority, now, now + delay))
        if inserted:
            connection.after_commit(self._wake)
        return message_id if inserted else None

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = anyio.Event()

    async def _send(self, queue: str, body: dict[str, Any], *, key: str | None, delay: float,
                    priority: int) -> str | None:
        async with self.database.write() as tx:
            return await self.send_within(tx, queue, body, key=key, delay=delay,
                                          priority=priority)

    async def _lease(self, queue: str, max_messages: int) -> list[Envelope]:
        now = time.time()
        async with self.database.read() as reader:
            if not await reader.fetchval(
                    "SELECT 1 FROM mailbox WHERE queue = ? AND available_at <= ? LIMIT 1",
                    (queue, now)):
                return []
        async with self.database.write() as tx:
            rows = await tx.fetchall(
                "UPDATE mailbox SET attempts = attempts + 1, receipt = ?, available_at = ?"
                " WHERE id IN (SELECT id FROM mailbox WHERE queue = ? AND available_at <= ?"
                "  ORDER BY priority, available_at LIMIT ?) RETURNING *",
                (uuid.uuid4().hex, now + self.visibility_timeout, queue, now, max_messages))
        return sorted((_envelope(r) for r in rows), key=lambda e: (e.priority, e.enqueued_at))

    async def _receive(self, queue: str, max_messages: int, timeout: float) -> list[Envelope]:
        deadline = time.monotonic() + timeout
        pause = _POLL_MIN
        while True:
            leased = await self._lease(queue, max_messages)
            remaining = deadline - time.monotonic()
            if leased or remaining <= 0:
                return leased
            # Same-process sends wake us at once; other processes are seen by polling.
            with anyio.move_on_after(min(pause, remaining)) as waited:
                await self._wakeup.wait()
            pause = min(pause * 2, _POLL_MAX) if waited.cancelled_caught else _POLL_MIN

    async def _ack(self, envelope: Envelope) -> None:
        async with self.database.write() as tx:
            await tx.execute("DELETE FROM mailbox WHERE id = ? AND receipt = ?",
                             (envelope.id, envelope.receipt))

    async def _retry(self, envelope: Envelope, delay: float, reason: str) -> None:
        async with self.database.write() as tx:
            await tx.execute(
                "UPDATE mailbox SET receipt = NULL, available_at = ?, last_error = ?"
                " WHERE id = ? AND receipt = ?",
                (time.time() + delay, reason, envelope.id, envelope.receipt))

    async def _dead_letter(self, envelope: Envelope, reason: str) -> None:
        async with self.database.write() as tx:
            moved = await tx.execute(
                "INSERT OR REPLACE INTO mailbox_dead (id, queue, body, msg_key, attempts, reason,"
                " failed_at) SELECT id, queue, body, msg_key, attempts, ?, ? FROM mailbox"
                " WHERE id = ? AND receipt = ?",
                (reason, time.time(), envelope.id, envelope.receipt))
            if moved:
                await tx.execute("DELETE FROM mailbox WHERE id = ?", (envelope.id,))

    async def _release(self, envelope: Envelope) -> None:
        async with self.database.write() as tx:
            await tx.execute(
                "UPDATE mailbox SET receipt = NULL, available_at = ?,"
                " attempts = max(attempts - 1, 0) WHERE id = ? AND receipt = ?",
                (time.time(), envelope.id, envelope.receipt))

    async def _extend(self, envelope: Envelope, seconds: float) -> None:
        async with self.database.write() as tx:
            await tx.execute("UPDATE mailbox SET available_at = ? WHERE id = ? AND receipt = ?",
                             (time.time() + seconds, envelope.id, envelope.receipt))

    async def stats(self, queue: str) -> QueueStats:
        now = time.time()
        async with self.database.read() as reader:
            row = await reader.fetchone(
                "SELECT"
                " sum(receipt IS NULL AND available_at <= ?),"
                " sum(receipt IS NULL AND available_at > ?),"
                " sum(receipt IS NOT NULL AND available_at > ?),"
                " min(CASE WHEN receipt IS NULL OR available_at <= ? THEN enqueued_at END),"
                " (SELECT count(*) FROM mailbox_dead WHERE queue = ?),"
                " sum(receipt IS NOT NULL AND available_at <= ?)"
                " FROM mailbox WHERE queue = ?",
                (now, now, now, now, queue, now, queue))
        ready, delayed, in_flight, oldest, dead, expired = (
            row[0] or 0, row[1] or 0, row[2] or 0, row[3], row[4], row[5] or 0)
        return QueueStats(queue=queue, ready=ready + expired, delayed=delayed,
                          in_flight=in_flight, dead=dead,
                          oldest_age=max(0.0, now - oldest) if oldest else 0.0)

    async def dead_letters(self, queue: str, *, limit: int = 100) -> Sequence[DeadLetter]:
        async with self.database.read() as reader:
            rows = await reader.fetchall(
                "SELECT * FROM mailbox_dead WHERE queue = ? ORDER BY failed_at DESC LIMIT ?",
                (queue, limit))
        return [DeadLetter(id=r["id"], queue=r["queue"], body=orjson.loads(r["body"]),
                           attempts=r["attempts"], reason=r["reason"], failed_at=r["failed_at"],
                           key=r["msg_key"]) for r in rows]

    @staticmethod
    def _id_filter(ids: Sequence[str] | None) -> tuple[str, list[str]]:
        if ids is None:
            return "", []
        return f" AND id IN ({','.join('?' * len(ids))})", list(ids)

    async def requeue_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        if ids is not None and not ids:
            return 0
        where, params = self._id_filter(ids)
        now = time.time()
        async with self.database.write() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO mailbox (id, queue, body, msg_key, priority, attempts,"
                " enqueued_at, available_at) SELECT id, queue, body, msg_key, 0, 0, ?, ?"
                f" FROM mailbox_dead WHERE queue = ?{where}", (now, now, queue, *params))
            count = await tx.execute(f"DELETE FROM mailbox_dead WHERE queue = ?{where}",
                                     (queue, *params))
        return count

    async def purge_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        if ids is not None and not ids:
            return 0
        where, params = self._id_filter(ids)
        async with self.database.write() as tx:
            return await tx.execute(f"DELETE FROM mailbox_dead WHERE queue = ?{where}",
                                    (queue, *params))

    async def ping(self) -> None:
        await self.database.ping()
