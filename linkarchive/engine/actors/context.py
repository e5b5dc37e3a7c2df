"""What every pipeline actor shares: the services, clients, and how a stage announces itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from linkarchive.engine.actors.sharing import FetchShare
from linkarchive.engine.mailbox import Envelope
from linkarchive.errors import ProcessingError, UnavailableError
from linkarchive.scraping.fetch import Fetcher
from linkarchive.services import Services
from linkarchive.storage.repositories import pipeline as records
from linkarchive.storage.repositories.rows import Link
from linkarchive.tagging import Tagger

__all__ = ["IMAGE", "SCRAPE", "TAG", "Pipeline", "link_event"]

log = logging.getLogger("linkarchive.pipeline")

SCRAPE, IMAGE, TAG = "scrape", "image", "tag"


def link_event(link: Link) -> dict[str, object]:
    """The ``link.updated`` event: enough for a client to update a row or fetch it again."""
    return {"type": "link.updated",
            "link": {"id": link.id, "status": link.status, "version": link.version,
                     "processing_error": link.processing_error, "title": link.title,
                     "updated_at": link.updated_at}}


@dataclass(frozen=True, kw_only=True)
class Pipeline:
    services: Services
    fetcher: Fetcher
    tagger: Tagger
    share: FetchShare

    @property
    def max_deliveries(self) -> int:
        return self.services.mailbox.max_deliveries

    async def announce(self, link: Link) -> None:
        """After a commit: invalidate the owner's cached pages and tell their open sockets."""
        try:
            await self.services.cache.bump_user(link.user_id)
        except UnavailableError as exc:
            log.warning("cache not invalidated for user %s: %s", link.user_id, exc)
        try:
            await self.services.events.publish(str(link.user_id), link_event(link))
        except UnavailableError as exc:
            log.warning("event for link %s not published: %s", link.id, exc)

    def will_retry(self, envelope: Envelope, exc: ProcessingError) -> bool:
        """A transient failure with deliveries left is retried rather than given up."""
        return exc.transient and envelope.attempts < self.max_deliveries

    async def fail(self, link_id: str, run: int, reason: str) -> None:
        """The link is ``failed`` with a reason a person can act on."""
        async with self.services.database.write() as tx:
            failed = await records.mark_failed(tx, link_id, reason, run=run)
        if failed is not None:
            log.info("link %s failed: %s", link_id, reason)
            await self.announce(failed)
