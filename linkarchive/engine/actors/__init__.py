"""The link pipeline's actors: scrape → image ∥ tag → completed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial

from linkarchive.engine.actors.context import IMAGE, SCRAPE, TAG, Pipeline
from linkarchive.engine.actors.image import handle_image
from linkarchive.engine.actors.scrape import handle_scrape
from linkarchive.engine.actors.sharing import FetchShare
from linkarchive.engine.actors.tag import handle_tag
from linkarchive.engine.pool import ActorSpec
from linkarchive.scraping.fetch import Fetcher
from linkarchive.scraping.politeness import SharedHostLimiter
from linkarchive.services import Services
from linkarchive.tagging import Tagger

__all__ = ["IMAGE", "SCRAPE", "TAG", "open_pipeline"]


@asynccontextmanager
async def open_pipeline(services: Services) -> AsyncIterator[list[ActorSpec]]:
    """The pipeline's actor specs, with the HTTP and model clients they share open."""
    settings = services.settings
    async with AsyncExitStack() as stack:
        limiter = None
        if settings.storage.redis_url:
            # Several workers share each host's politeness budget through Redis.
            from linkarchive.http.ratelimit import Rate, RedisRateLimiter

            fetch = settings.fetch
            shared = RedisRateLimiter.from_url(
                settings.storage.redis_url,
                Rate(fetch.fetch_host_burst, fetch.fetch_host_burst / fetch.fetch_host_rate),
                prefix=f"{settings.storage.redis_prefix}fetch:")
            stack.push_async_callback(shared.aclose)
            limiter = SharedHostLimiter(shared)
        fetcher = await stack.enter_async_context(Fetcher(settings.fetch, limiter=limiter))
        tagger = await stack.enter_async_context(Tagger(settings.model))
        pipeline = Pipeline(services=services, fetcher=fetcher, tagger=tagger,
                            share=FetchShare(services.cache, services.locks,
                                             hold=settings.fetch.fetch_timeout * 2 + 30))
        engine = settings.engine
        # Deadlines sit inside the visibility timeout's reach: leases are extended meanwhile.
        yield [
            ActorSpec(queue=SCRAPE, handler=partial(handle_scrape, pipeline),
                      concurrency=engine.scrape_concurrency,
                      timeout=settings.fetch.fetch_timeout * 2 + 30,
                      on_dead_letter=pipeline.scrape_given_up),
            ActorSpec(queue=IMAGE, handler=partial(handle_image, pipeline),
                      concurrency=engine.image_concurrency,
                      timeout=settings.fetch.fetch_timeout * 2 + 60,
                      on_dead_letter=pipeline.stage_given_up),
            ActorSpec(queue=TAG, handler=partial(handle_tag, pipeline),
                      concurrency=engine.tag_concurrency,
                      timeout=settings.model.openai_timeout * 4 + 30,
                      on_dead_letter=pipeline.stage_given_up),
        ]
