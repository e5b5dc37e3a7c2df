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
        """Move one batch from the outbox to the mailbox; answer how many moved."""
        lock = " FOR UPDATE SKIP LOCKED" if self.database.dialect == "postgres" else ""
        async with self.database.write() as tx:
            rows = await tx.fetchall(
                f"SELECT id, queue, body, msg_key, priority FROM outbox ORDER BY id LIMIT ?{lock}",
                (_RELAY_BATCH,))
            for row in rows:
                body = row["body"]
                await self.mailbox.send(row["queue"], orjson.loads(body), key=row["msg_key"],
                                        priority=row["priority"])
            if rows:
                # Sent before deleting: a crash in between sends again, which is at-least-once.
                await tx.executemany("DELETE FROM outbox WHERE id = ?", [(r["id"],) for r in rows])
        return len(rows)

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
