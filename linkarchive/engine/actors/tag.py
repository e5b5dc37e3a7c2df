"""The tag actor: the model (or the offline tagger) names the link's tags, folded onto the
user's own vocabulary; the user's tags are never replaced."""

from __future__ import annotations

import time

from linkarchive.engine.actors.context import Pipeline
from linkarchive.engine.mailbox import Envelope
from linkarchive.errors import NotFound
from linkarchive.metrics import MODEL_CALLS, STAGE_DURATION, STAGES
from linkarchive.storage.repositories import pipeline as records
from linkarchive.storage.repositories.admin import owner_of
from linkarchive.storage.repositories.links import get_link
from linkarchive.storage.repositories.tags import top_tag_names
from linkarchive.tagging import PageFacts

__all__ = ["handle_tag"]

_VOCABULARY = 200


async def handle_tag(pipeline: Pipeline, envelope: Envelope) -> None:
    link_id, run = envelope.body["link"], envelope.body["run"]
    database = pipeline.services.database
    started = time.monotonic()
    async with database.read() as conn:
        try:
            user_id = await owner_of(conn, link_id)
            link = await get_link(conn, user_id, link_id)
        except NotFound:
            return  # deleted since it was scraped
        vocabulary = await top_tag_names(conn, user_id, limit=_VOCABULARY)
    if link.status != "scraped" or link.retry_count != run:
        return
    facts = PageFacts(url=link.canonical_url or link.url, title=link.title,
                      description=link.description, site_name=link.site_name, lang=link.lang,
                      kind=link.kind, keywords=tuple(envelope.body.get("keywords") or ()))
    result = await pipeline.tagger.tag(facts, vocabulary=vocabulary)
    MODEL_CALLS.labels(result.source, result.fallback_reason or "ok").inc()
    async with database.write() as tx:
        done = await records.save_generated_tags(tx, link_id, result.tags, run=run,
                                                 mood=result.mood, difficulty=result.difficulty)
    STAGES.labels("tag", "ok").inc()
    STAGE_DURATION.labels("tag", "ok").observe(time.monotonic() - started)
    if done is not None:
        await pipeline.announce(done.link)
