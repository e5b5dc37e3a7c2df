"""The scrape actor: fetch the page behind the guard, extract its metadata, queue image and tags."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

from linkarchive.engine.actors.context import IMAGE, TAG, Pipeline
from linkarchive.engine.mailbox import Envelope
from linkarchive.errors import BlockedAddress, FetchError, ProcessingError
from linkarchive.metrics import FETCHES, STAGE_DURATION, STAGES
from linkarchive.scraping.inspect import page_metadata
from linkarchive.storage.repositories import pipeline as records

__all__ = ["handle_scrape", "scrape_page"]

log = logging.getLogger("linkarchive.pipeline")

_KEYWORDS_KEPT = 20


def _timestamp(value: str | None) -> float | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _fetch_outcome(exc: FetchError) -> str:
    """A coarse label for the fetch metric."""
    reason = str(exc)
    if isinstance(exc, BlockedAddress):
        return "blocked"
    if "timed out" in reason:
        return "timeout"
    if "larger than" in reason:
        return "too_large"
    return "http_error" if reason.startswith("the site answered") else "error"


async def scrape_page(pipeline: Pipeline, url: str) -> dict[str, Any]:
    """Fetch ``url`` and answer what the link should show (JSON-ready, shared between savers)."""
    try:
        page = await pipeline.fetcher.fetch_page(url)
    except FetchError as exc:
        FETCHES.labels("page", _fetch_outcome(exc)).inc()
        raise
    FETCHES.labels("page", "ok").inc()
    return await page_metadata(page)


async def handle_scrape(pipeline: Pipeline, envelope: Envelope) -> None:
    link_id, run = envelope.body["link"], envelope.body["run"]
    database = pipeline.services.database
    async with database.write() as tx:
        link = await records.begin_scrape(tx, link_id, run=run)
    if link is None:
        return  # deleted, retried since, or already past this stage
    await pipeline.announce(link)
    started = time.monotonic()
    try:
        found = await pipeline.share.get_or_fetch(f"page:{link.url_hash}",
                                                  partial(scrape_page, pipeline, link.url))
    except ProcessingError as exc:
        outcome = "retry" if pipeline.will_retry(envelope, exc) else "failed"
        STAGES.labels("scrape", outcome).inc()
        STAGE_DURATION.labels("scrape", outcome).observe(time.monotonic() - started)
        if outcome == "retry":
            raise
        await pipeline.fail(link_id, run, str(exc))
        if exc.transient:
            raise ProcessingError(str(exc)) from exc  # retries used up: dead-letter it
        return
    metadata = records.ScrapedMetadata(
        canonical_url=found.get("url"), title=found.get("title"),
        description=found.get("description"), author=found.get("author"),
        site_name=found.get("publisher"), lang=found.get("lang"),
        published_at=_timestamp(found.get("date")), kind=found.get("kind"),
        image_url=found.get("image"), favicon_url=found.get("logo"))
    jobs = pipeline.services.jobs
    async with database.write() as tx:
        saved = await records.save_scraped(tx, link_id, metadata, run=run)
        if saved is None:
            return
        if metadata.image_url:
            await jobs.enqueue_within(tx, IMAGE, {"link": link_id, "run": run,
                                                  "image": metadata.image_url},
                                      key=f"{IMAGE}:{link_id}:{run}")
        else:
            await records.skip_stage(tx, link_id, IMAGE, run=run)
        await jobs.enqueue_within(tx, TAG, {"link": link_id, "run": run,
                                            "keywords": found.get("keywords", [])[:_KEYWORDS_KEPT]},
                                  key=f"{TAG}:{link_id}:{run}")
    STAGES.labels("scrape", "ok").inc()
    STAGE_DURATION.labels("scrape", "ok").observe(time.monotonic() - started)
    await pipeline.announce(saved)
