"""Queueing jobs in the same transaction as the change that causes them.

With the SQLite mailbox the job row goes straight into the mailbox table. With any other
mailbox it goes into the ``outbox`` table and the relay moves it on after commit, so a Redis
outage delays jobs but never loses one.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import orjson
from anyio.abc import TaskStatus

from linkarchive.engine.mailbox import Mailbox, backoff_delay
from linkarchive.errors import UnavailableError

__all__ = ["JobQueue"]

log = logging.getLogger("linkarchive.engine")

_RELAY_BATCH = 200
_BATCH = "SELECT id, queue, body, msg_key, priority FROM outbox ORDER BY id LIMIT ?"
_RELAY_IDLE = 0.2


class JobQueue:
    """``enqueue_within(tx, …)`` inside a write transaction; ``relay()`` runs in the background."""

    def __init__(self, mailbox: Mailbox, database: Any) -> None:
        self.mailbox = mailbox
        self.database = database
        self._direct = getattr(mailbox, "database", None) is database
        self._wakeup = anyio.Event()

    @property
    def needs_relay(self) -> bool:
        return not self._direct

    async def enqueue_within(self, tx: Any, queue: str, body: dict[str, Any], *,
                             key: str | None = None, priority: int = 0) -> None:
        if self._direct:
            await self.mailbox.send_within(tx, queue, body, key=key,  # type: ignore[attr-defined]
                                           priority=priority)
            return
        await tx.execute("INSERT INTO outbox (queue, body, msg_key, priority, created_at)"
                         " VALUES (?, ?, ?, ?, ?)",
                         (queue, orjson.dumps(body).decode(), key, priority, time.time()))
        tx.after_commit(self._wake)

    def _wake(self) -> None:
        self._wakeup.set()

    async def relay_once(self) -> int:
        """Move one batch from the outbox to the mailbox; answer how many moved.

        Rows are sent before they are deleted: a crash in between sends them again, which
        at-least-once delivery and the jobs' keys absorb.
        """
        if self.database.dialect == "postgres":
            # Row locks keep concurrent relays off each other's batch and block nobody else.
            async with self.database.write() as tx:
                rows = await tx.fetchall(_BATCH + " FOR UPDATE SKIP LOCKED", (_RELAY_BATCH,))
                await self._send(rows)
                await _delete(tx, rows)
            return len(rows)
        # SQLite has one writer: never hold it while waiting on the mailbox.
        async with self.database.read() as conn:
            rows = await conn.fetchall(_BATCH, (_RELAY_BATCH,))
        await self._send(rows)
        if rows:
            async with self.database.write() as tx:
                await _delete(tx, rows)
        return len(rows)

    async def _send(self, rows: list[Any]) -> None:
        for row in rows:
            await self.mailbox.send(row["queue"], orjson.loads(row["body"]), key=row["msg_key"],
                                    priority=row["priority"])

    async def relay(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Relay forever, backing off while the mailbox or database is unavailable."""
        task_status.started()
        failures = 0
        while True:
            try:
                moved = await self.relay_once()
                failures = 0
            except UnavailableError as exc:
                failures += 1
                delay = backoff_delay(failures, base=0.2, cap=5.0)
                log.warning("outbox relay paused %.1fs: %s", delay, exc)
                await anyio.sleep(delay)
                continue
            if moved < _RELAY_BATCH:
                self._wakeup = anyio.Event()
                with anyio.move_on_after(_RELAY_IDLE):
                    await self._wakeup.wait()


async def _delete(tx: Any, rows: list[Any]) -> None:
    if rows:
        await tx.executemany("DELETE FROM outbox WHERE id = ?", [(row["id"],) for row in rows])
