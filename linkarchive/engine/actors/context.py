"""What every pipeline actor shares: the services, clients, and how a stage announces itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from linkarchive.engine.actors.sharing import FetchShare
from linkarchive.engine.mailbox import Envelope
from linkarchive.errors import ProcessingError
from linkarchive.links.events import announce
from linkarchive.scraping.fetch import Fetcher
from linkarchive.services import Services
from linkarchive.storage.repositories import pipeline as records
from linkarchive.storage.repositories.rows import Link
from linkarchive.tagging import Tagger

__all__ = ["IMAGE", "SCRAPE", "TAG", "Pipeline"]

log = logging.getLogger("linkarchive.pipeline")

SCRAPE, IMAGE, TAG = "scrape", "image", "tag"


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
        await announce(self.services, link)

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

    async def scrape_given_up(self, envelope: Envelope, reason: str) -> None:
        """The scrape kept crashing or hanging the worker: the link fails with that reason."""
        await self.fail(envelope.body["link"], envelope.body["run"],
                        f"processing kept failing: {reason}")

    async def stage_given_up(self, envelope: Envelope, reason: str) -> None:
        """An image or tag job kept crashing the worker: close the stage without its result so
        the link still completes (a picture that crashes the decoder loses only its thumbnail)."""
        stage = IMAGE if envelope.queue == IMAGE else TAG
        async with self.services.database.write() as tx:
            done = await records.skip_stage(tx, envelope.body["link"], stage,
                                            run=envelope.body["run"])
        log.warning("gave up the %s stage of link %s: %s", stage, envelope.body["link"], reason)
        if done is not None:
            await self.announce(done.link)
