"""What only administrators ask, across every user: a link's owner, counts, recent failures."""

from __future__ import annotations

from dataclasses import dataclass

from linkarchive.errors import NotFound
from linkarchive.storage.database import Connection

__all__ = ["Failure", "outbox_backlog", "owner_of", "recent_failures", "stage_counts",
           "status_counts"]

# -- Named SQL ---------------------------------------------------------------------------------
LIVE_OWNER = "SELECT user_id FROM links WHERE id = ? AND deleted_at IS NULL"
STATUS_COUNTS = "SELECT status, count(*) FROM links WHERE deleted_at IS NULL GROUP BY status"
# Stages finished in the links' current runs; a retried link's earlier runs are forgotten.
STAGE_COUNTS = "SELECT stage, count(*) FROM link_stages GROUP BY stage"
RECENT_FAILURES = (
    "SELECT url, processing_error, updated_at FROM links"
    " WHERE status = 'failed' AND deleted_at IS NULL AND updated_at >= ?"
    " ORDER BY updated_at DESC LIMIT ?")
OUTBOX_BACKLOG = "SELECT count(*), min(created_at) FROM outbox"


@dataclass(frozen=True, kw_only=True)
class Failure:
    url: str
    reason: str
    failed_at: float


async def owner_of(conn: Connection, link_id: str) -> int:
    """The id of the user a live link belongs to; NotFound for a missing or deleted one."""
    owner = await conn.fetchval(LIVE_OWNER, (link_id,))
    if owner is None:
        raise NotFound(f"no link {link_id}")
    return int(owner)


async def status_counts(conn: Connection) -> dict[str, int]:
    """Live links per status, all users together."""
    return {row[0]: int(row[1]) for row in await conn.fetchall(STATUS_COUNTS)}


async def stage_counts(conn: Connection) -> dict[str, int]:
    """How many links finished each post-scrape stage (``image``, ``tag``) in their run."""
    return {row[0]: int(row[1]) for row in await conn.fetchall(STAGE_COUNTS)}


async def recent_failures(conn: Connection, *, since: float, limit: int = 10_000) -> list[Failure]:
    """Links that failed since ``since`` (epoch seconds), newest first."""
    rows = await conn.fetchall(RECENT_FAILURES, (since, limit))
    return [Failure(url=row[0], reason=row[1] or "unknown", failed_at=row[2]) for row in rows]


async def outbox_backlog(conn: Connection) -> tuple[int, float | None]:
    """Jobs waiting in the outbox for the relay to move them to Redis, and the oldest's time."""
    row = await conn.fetchone(OUTBOX_BACKLOG)
    return int(row[0]), row[1]
