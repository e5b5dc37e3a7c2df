"""Telling the world a link changed: its owner's cached pages go stale, their sockets hear."""

from __future__ import annotations

import logging
from typing import Any

from linkarchive.errors import UnavailableError
from linkarchive.storage.repositories.rows import Link

__all__ = ["announce", "link_event"]

log = logging.getLogger("linkarchive.links")


def link_event(link: Link) -> dict[str, Any]:
    """The ``link.updated`` event: enough for a client to update a row or fetch it again."""
    return {"type": "link.updated",
            "link": {"id": link.id, "status": link.status, "version": link.version,
                     "processing_error": link.processing_error, "title": link.title,
                     "updated_at": link.updated_at}}


async def announce(services: Any, link: Link) -> None:
    """After a commit: invalidate the owner's cached pages and publish ``link.updated``.

    Neither may fail the change that already committed; a missed bump heals with the cache TTL.
    """
    try:
        await services.cache.bump_user(link.user_id)
    except UnavailableError as exc:
        log.warning("cache not invalidated for user %s: %s", link.user_id, exc)
    try:
        await services.events.publish(str(link.user_id), link_event(link))
    except UnavailableError as exc:
        log.warning("event for link %s not published: %s", link.id, exc)
