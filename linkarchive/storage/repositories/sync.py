"""Sync: pull the user's changes after a cursor; push changes at most once per ``change_id``.

The cursor is the per-user change sequence (``changes.next_change_seq``), not a timestamp:
numbers are handed out in commit order, so a pull never skips a change that committed while it
ran. A link changed several times between pulls comes once, in its latest state; a deleted
link comes as a tombstone.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from linkarchive.errors import NotFound
from linkarchive.storage.database import Connection
from linkarchive.storage.repositories.loading import load_links
from linkarchive.storage.repositories.rows import LINK_COLUMNS, SyncPage, Tombstone

__all__ = [
    "applied_change",
    "changes_since",
    "claim_change",
    "current_cursor",
    "cursor_at",
    "record_change",
]

MAX_LIMIT = 1000

# -- Named SQL ---------------------------------------------------------------------------------
CHANGES_AFTER = (f"SELECT {LINK_COLUMNS} FROM links WHERE user_id = ? AND change_seq > ?"
                 " ORDER BY change_seq LIMIT ?")
USER_CURSOR = "SELECT change_seq FROM users WHERE id = ?"
# The earliest change after a moment; the cursor just before it replays everything since then.
FIRST_CHANGE_AFTER = "SELECT min(change_seq) FROM links WHERE user_id = ? AND updated_at > ?"
APPLIED_CHANGE = "SELECT result FROM applied_changes WHERE user_id = ? AND change_id = ?"
# Inserting the id first claims it: a concurrent push of the same id waits on this row until
# we commit, then finds it taken.
CLAIM_CHANGE = ("INSERT INTO applied_changes (user_id, change_id, applied_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, change_id) DO NOTHING RETURNING change_id")
RECORD_CHANGE = (
    "INSERT INTO applied_changes (user_id, change_id, result, applied_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (user_id, change_id) DO UPDATE SET result = excluded.result")


async def changes_since(conn: Connection, user_id: int, cursor: int, *,
                        limit: int = 500) -> SyncPage:
    """Links changed after ``cursor``, oldest change first, at most ``limit`` of them."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = await conn.fetchall(CHANGES_AFTER, (user_id, cursor, limit + 1))
    page = rows[:limit]
    live = await load_links(conn, [row for row in page if row["deleted_at"] is None])
    deleted = [Tombstone(id=row["id"], version=row["version"], deleted_at=row["deleted_at"],
                         change_seq=row["change_seq"])
               for row in page if row["deleted_at"] is not None]
    return SyncPage(links=tuple(live), deleted=tuple(deleted),
                    next_cursor=page[-1]["change_seq"] if page else cursor,
                    has_more=len(rows) > limit)


async def current_cursor(conn: Connection, user_id: int) -> int:
    """The cursor after the user's latest change (where a fresh full download leaves off)."""
    seq = await conn.fetchval(USER_CURSOR, (user_id,))
    if seq is None:
        raise NotFound(f"no user {user_id}")
    return seq


async def cursor_at(conn: Connection, user_id: int, timestamp: float) -> int:
    """A cursor from a seed-style ``since`` timestamp: everything updated after it comes."""
    first = await conn.fetchval(FIRST_CHANGE_AFTER, (user_id, timestamp))
    return await current_cursor(conn, user_id) if first is None else first - 1


async def applied_change(conn: Connection, user_id: int,
                         change_id: str) -> dict[str, Any] | None:
    """The recorded result of a pushed change, or None if it was never applied."""
    result = await conn.fetchval(APPLIED_CHANGE, (user_id, change_id))
    return None if result is None else orjson.loads(result)


async def claim_change(tx: Connection, user_id: int, change_id: str) -> dict[str, Any] | None:
    """None when ``change_id`` is new (apply it, then ``record_change``), else its result.

    Claim, apply and record in one transaction; an error rolls the claim back with the rest.
    """
    if await tx.fetchval(CLAIM_CHANGE, (user_id, change_id, time.time())) is not None:
        return None
    return await applied_change(tx, user_id, change_id) or {}


async def record_change(tx: Connection, user_id: int, change_id: str,
                        result: Mapping[str, Any]) -> None:
    """Remember what applying ``change_id`` answered, to answer it again on a repeat."""
    await tx.execute(RECORD_CHANGE, (user_id, change_id, orjson.dumps(dict(result)).decode(),
                                     time.time()))
