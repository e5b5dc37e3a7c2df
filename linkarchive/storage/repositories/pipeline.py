"""The pipeline's writes: status, scraped metadata, generated tags, images, completion, retry.

Every job message carries the link's ``run`` (its ``retry_count`` when the job was queued).
Writes are keyed by (link, run, stage) so that a message delivered twice, or one left over
from before a retry or a delete, changes nothing: such calls answer None ("stale, drop it").
After ``save_scraped`` the ``image`` and ``tag`` stages run in either order; the one that
finishes last sets the link ``completed`` and says so in its ``StageOutcome``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from linkarchive.errors import NotFound
from linkarchive.storage.database import Connection
from linkarchive.storage.repositories.changes import next_change_seq
from linkarchive.storage.repositories.links import get_link
from linkarchive.storage.repositories.rows import IMAGE_VARIANTS, Link, StoredImage
from linkarchive.storage.repositories.search import reindex_links
from linkarchive.storage.repositories.tags import TagSuggestion, write_generated_tags

__all__ = [
    "PIPELINE_STAGES",
    "ScrapedMetadata",
    "StageOutcome",
    "begin_scrape",
    "mark_failed",
    "record_images",
    "retry_link",
    "save_generated_tags",
    "save_scraped",
    "skip_stage",
]

# Stages that must all finish, after scraping, for a link to be completed.
PIPELINE_STAGES = ("image", "tag")

# -- Named SQL ---------------------------------------------------------------------------------
LINK_OWNER = "SELECT user_id FROM links WHERE id = ?"
LINK_STATE = ("SELECT user_id, status, retry_count, deleted_at, created_at FROM links"
              " WHERE id = ?")
# {assignments} are fixed column lists from this module.
TOUCH_LINK = ("UPDATE links SET {assignments}version = version + 1, change_seq = ?,"
              " updated_at = ? WHERE id = ?")
STAGE_DONE = "SELECT 1 FROM link_stages WHERE link_id = ? AND run = ? AND stage = ?"
RECORD_STAGE = ("INSERT INTO link_stages (link_id, run, stage, finished_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (link_id, run, stage) DO NOTHING")
STAGES_DONE = "SELECT stage FROM link_stages WHERE link_id = ? AND run = ?"
FORGET_STAGES = "DELETE FROM link_stages WHERE link_id = ?"
UPSERT_IMAGE = (
    "INSERT INTO stored_images (link_id, variant, bucket, object_key, width, height, bytes,"
    " sha256, content_type, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (link_id, variant) DO UPDATE SET bucket = excluded.bucket,"
    " object_key = excluded.object_key, width = excluded.width, height = excluded.height,"
    " bytes = excluded.bytes, sha256 = excluded.sha256, content_type = excluded.content_type")
# In ScrapedMetadata's field order. A title the user set stays (title_edited); the rest is
# the page's.
SCRAPED_ASSIGNMENTS = (
    "canonical_url = ?, title = CASE WHEN title_edited THEN title ELSE ? END, description = ?,"
    " author = ?, site_name = ?, lang = ?, published_at = ?, kind = ?, image_url = ?,"
    " favicon_url = ?, status = 'scraped', processing_error = NULL, ")


@dataclass(frozen=True, kw_only=True)
class ScrapedMetadata:
    """What the scraper found on the page; None where it found nothing."""

    canonical_url: str | None = None
    title: str | None = None
    description: str | None = None
    author: str | None = None
    site_name: str | None = None
    lang: str | None = None
    published_at: float | None = None
    kind: str | None = None
    image_url: str | None = None
    favicon_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class StageOutcome:
    """A stage's write went through; ``completed`` when it was the last one of the run."""

    link: Link
    completed: bool


async def _lock(tx: Connection, link_id: str, run: int) -> tuple[Any, int] | None:
    """The link's state read under its owner's lock, and a sequence number for a change; None
    when the link is gone or the run is not the current one."""
    owner = await tx.fetchval(LINK_OWNER, (link_id,))
    if owner is None:
        return None
    seq = await next_change_seq(tx, owner)
    state = await tx.fetchone(LINK_STATE, (link_id,))
    if state["deleted_at"] is not None or state["retry_count"] != run:
        return None
    return state, seq


async def _touch(tx: Connection, link_id: str, seq: int, assignments: str = "",
                 params: Sequence[Any] = ()) -> None:
    await tx.execute(TOUCH_LINK.format(assignments=assignments),
                     (*params, seq, time.time(), link_id))


async def _load(tx: Connection, state: Any, link_id: str) -> Link:
    return await get_link(tx, state["user_id"], link_id)


async def begin_scrape(tx: Connection, link_id: str, *, run: int) -> Link | None:
    """Mark the link ``scraping`` and answer it; a redelivery mid-scrape answers it unchanged."""
    locked = await _lock(tx, link_id, run)
    if locked is None or locked[0]["status"] not in ("pending", "scraping"):
        return None
    state, seq = locked
    if state["status"] == "pending":
        await _touch(tx, link_id, seq, "status = 'scraping', processing_error = NULL, ")
    return await _load(tx, state, link_id)


async def save_scraped(tx: Connection, link_id: str, metadata: ScrapedMetadata, *,
                       run: int) -> Link | None:
    """Store the page's metadata, status ``scraped``; the caller queues image and tag jobs in the
    same transaction."""
    locked = await _lock(tx, link_id, run)
    if locked is None or locked[0]["status"] != "scraping":
        return None
    state, seq = locked
    values = [getattr(metadata, f.name) for f in fields(ScrapedMetadata)]
    await _touch(tx, link_id, seq, SCRAPED_ASSIGNMENTS, values)
    await reindex_links(tx, [link_id])
    return await _load(tx, state, link_id)


async def _open_stage(tx: Connection, link_id: str, run: int,
                      stage: str) -> tuple[Any, int] | None:
    """Like ``_lock``, and None as well unless the link is scraped and ``stage`` not yet done."""
    locked = await _lock(tx, link_id, run)
    if locked is None or locked[0]["status"] != "scraped":
        return None
    if await tx.fetchval(STAGE_DONE, (link_id, run, stage)):
        return None
    return locked


async def _close_stage(tx: Connection, link_id: str, run: int, stage: str, seq: int,
                       assignments: str = "", params: Sequence[Any] = ()) -> bool:
    """Record the stage and touch the link, completing it when it was the last; answer that."""
    await tx.execute(RECORD_STAGE, (link_id, run, stage, time.time()))
    done = {row["stage"] for row in await tx.fetchall(STAGES_DONE, (link_id, run))}
    completed = set(PIPELINE_STAGES) <= done
    if completed:
        assignments += "status = 'completed', "
    await _touch(tx, link_id, seq, assignments, params)
    return completed


async def save_generated_tags(tx: Connection, link_id: str, tags: Sequence[TagSuggestion], *,
                              run: int, mood: str | None = None,
                              difficulty: str | None = None) -> StageOutcome | None:
    """Replace the tagger's tags (the user's stay) and mood/difficulty: the ``tag`` stage."""
    opened = await _open_stage(tx, link_id, run, "tag")
    if opened is None:
        return None
    state, seq = opened
    await write_generated_tags(tx, state["user_id"], link_id, state["created_at"], tags)
    completed = await _close_stage(tx, link_id, run, "tag", seq, "mood = ?, difficulty = ?, ",
                                   (mood, difficulty))
    await reindex_links(tx, [link_id])
    return StageOutcome(link=await _load(tx, state, link_id), completed=completed)


async def record_images(tx: Connection, link_id: str, images: Sequence[StoredImage], *,
                        run: int) -> StageOutcome | None:
    """Store where the link's original and thumbnails are: the ``image`` stage."""
    for image in images:
        if image.variant not in IMAGE_VARIANTS:
            raise ValueError(f"unknown image variant {image.variant!r}")
    opened = await _open_stage(tx, link_id, run, "image")
    if opened is None:
        return None
    state, seq = opened
    now = time.time()
    await tx.executemany(UPSERT_IMAGE, [
        (link_id, i.variant, i.bucket, i.object_key, i.width, i.height, i.bytes, i.sha256,
         i.content_type, now) for i in images])
    completed = await _close_stage(tx, link_id, run, "image", seq)
    return StageOutcome(link=await _load(tx, state, link_id), completed=completed)


async def skip_stage(tx: Connection, link_id: str, stage: str, *,
                     run: int) -> StageOutcome | None:
    """Close a stage that has nothing to store (a page without an image)."""
    if stage not in PIPELINE_STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {PIPELINE_STAGES}")
    opened = await _open_stage(tx, link_id, run, stage)
    if opened is None:
        return None
    state, seq = opened
    completed = await _close_stage(tx, link_id, run, stage, seq)
    return StageOutcome(link=await _load(tx, state, link_id), completed=completed)


async def mark_failed(tx: Connection, link_id: str, error: str, *, run: int) -> Link | None:
    """Status ``failed`` with the reason; answer the link when this call failed it."""
    locked = await _lock(tx, link_id, run)
    if locked is None or locked[0]["status"] in ("failed", "completed"):
        return None
    state, seq = locked
    await _touch(tx, link_id, seq, "status = 'failed', processing_error = ?, ", (error,))
    return await _load(tx, state, link_id)


async def retry_link(tx: Connection, user_id: int, link_id: str) -> Link:
    """Start the pipeline over as a new run: ``pending``, ``retry_count`` + 1, error cleared.

    Queue the scrape job with ``run=link.retry_count``; messages of earlier runs go stale.
    """
    seq = await next_change_seq(tx, user_id)
    state = await tx.fetchone(LINK_STATE, (link_id,))
    if state is None or state["user_id"] != user_id or state["deleted_at"] is not None:
        raise NotFound(f"no link {link_id}")
    await tx.execute(FORGET_STAGES, (link_id,))
    await _touch(tx, link_id, seq, "status = 'pending', processing_error = NULL,"
                 " retry_count = retry_count + 1, ")
    return await get_link(tx, user_id, link_id)
