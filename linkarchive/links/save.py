"""Saving a link: validate and normalize the URL, dedupe per user, and insert the link with its
scrape job in one transaction, so a saved link always gets processed."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from linkarchive.engine.actors.context import SCRAPE
from linkarchive.links.events import announce
from linkarchive.scraping.urls import normalize_url, url_hash
from linkarchive.services import Services
from linkarchive.storage.repositories import links as links_repo
from linkarchive.storage.repositories import pipeline as records
from linkarchive.storage.repositories.rows import Link, Tombstone

__all__ = ["PRIORITY_BULK", "PRIORITY_INTERACTIVE", "as_deleted", "delete_link", "retry_link",
           "save_link"]

# Interactive saves overtake queued imports: lower numbers are received first.
PRIORITY_INTERACTIVE = 0
PRIORITY_BULK = 7


async def save_link(services: Services, user_id: int, url: str, *, note: str | None = None,
                    source: str | None = None, tags: Sequence[str] = (),
                    priority: int = PRIORITY_INTERACTIVE) -> tuple[Link, bool]:
    """Answer (link, created): the new ``pending`` link, or the user's link for the same URL.

    Raises InvalidURL with a reason a person can act on.
    """
    normalized = normalize_url(url)
    async with services.database.write() as tx:
        link, created = await links_repo.create_or_get(
            tx, user_id, normalized, url_hash(normalized), note=note, source=source, tags=tags)
        if created:
            await services.jobs.enqueue_within(tx, SCRAPE, {"link": link.id, "run": 0},
                                               key=f"{SCRAPE}:{link.id}:0", priority=priority)
    if created:
        await announce(services, link)
    return link, created


async def retry_link(services: Services, user_id: int, link_id: str) -> Link:
    """Run the whole pipeline again for one of the user's links (NotFound otherwise)."""
    async with services.database.write() as tx:
        link = await records.retry_link(tx, user_id, link_id)
        run = link.retry_count
        await services.jobs.enqueue_within(tx, SCRAPE, {"link": link.id, "run": run},
                                           key=f"{SCRAPE}:{link.id}:{run}")
    await announce(services, link)
    return link


def as_deleted(link: Link, tombstone: Tombstone) -> Link:
    """The link as its deletion left it, for the ``link.updated`` event."""
    return dataclasses.replace(link, version=tombstone.version, deleted_at=tombstone.deleted_at,
                               updated_at=tombstone.deleted_at, change_seq=tombstone.change_seq,
                               tags=())


async def delete_link(services: Services, user_id: int, link_id: str, *,
                      expected_version: int | None = None) -> Tombstone:
    """Soft-delete one of the user's links and tell their devices (VersionConflict, NotFound)."""
    async with services.database.write() as tx:
        link = await links_repo.get_link(tx, user_id, link_id)
        tombstone = await links_repo.delete_link(tx, user_id, link_id,
                                                 expected_version=expected_version)
    await announce(services, as_deleted(link, tombstone))
    return tombstone
