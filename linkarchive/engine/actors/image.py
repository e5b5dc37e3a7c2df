"""The image actor: download the page's picture, make thumbnails, store each distinct image once.

A missing or broken picture never fails the link: the stage closes without thumbnails.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from functools import partial
from typing import Any

from linkarchive.engine.actors.context import Pipeline
from linkarchive.engine.cpu import run_cpu
from linkarchive.engine.mailbox import Envelope
from linkarchive.errors import FetchError, ProcessingError
from linkarchive.imaging import Thumbnails, make_thumbnails, thumbnail_keys
from linkarchive.metrics import FETCHES, STAGE_DURATION, STAGES
from linkarchive.scraping.fetch import IMAGE_ACCEPT
from linkarchive.storage.blobs import BlobStore
from linkarchive.storage.repositories import pipeline as records
from linkarchive.storage.repositories.rows import StoredImage

__all__ = ["handle_image", "store_thumbnails"]

log = logging.getLogger("linkarchive.pipeline")


async def store_thumbnails(blobs: BlobStore, thumbnails: Thumbnails,
                           original: bytes) -> list[StoredImage]:
    """Put the original (private) and the variants (public), skipping objects already stored."""
    keys = thumbnail_keys(thumbnails)
    bucket = getattr(blobs, "bucket", "local")
    source = thumbnails.original
    pieces = [("original", original, source.mime, source.width, source.height, source.sha256)]
    pieces += [(name, v.data, v.mime, v.width, v.height, v.sha256)
               for name, v in thumbnails.variants.items()]
    stored = []
    for name, data, mime, width, height, digest in pieces:
        key = keys[name]
        if not await blobs.exists(key):  # content-addressed: same picture, same key
            await blobs.put(key, data, content_type=mime, public=name != "original")
        stored.append(StoredImage(variant=name, bucket=bucket, object_key=key, width=width,
                                  height=height, bytes=len(data), sha256=digest,
                                  content_type=mime))
    return stored


async def _picture(pipeline: Pipeline, url: str) -> dict[str, Any]:
    """Download, thumbnail and store one picture; JSON-ready so other links can share it."""
    services = pipeline.services
    try:
        resource = await pipeline.fetcher.fetch_bytes(
            url, max_bytes=services.settings.fetch.image_max_bytes, accept=IMAGE_ACCEPT)
    except FetchError:
        FETCHES.labels("image", "error").inc()
        raise
    FETCHES.labels("image", "ok").inc()
    thumbnails = await run_cpu(make_thumbnails, resource.body)
    stored = await store_thumbnails(services.blobs, thumbnails, resource.body)
    return {"images": [dataclasses.asdict(image) for image in stored]}


async def handle_image(pipeline: Pipeline, envelope: Envelope) -> None:
    link_id, run, url = envelope.body["link"], envelope.body["run"], envelope.body["image"]
    services = pipeline.services
    started = time.monotonic()
    images: list[StoredImage] = []
    try:
        # Many links show one picture (a site's default image): thumbnail it once.
        shared = await pipeline.share.get_or_fetch(
            f"picture:{hashlib.sha256(url.encode()).hexdigest()}",
            partial(_picture, pipeline, url))
        images = [StoredImage(**image) for image in shared["images"]]
        outcome = "ok"
    except ProcessingError as exc:
        if pipeline.will_retry(envelope, exc):
            STAGES.labels("image", "retry").inc()
            raise
        outcome = "skipped"
        log.info("no thumbnail for link %s from %s: %s", link_id, url, exc)
    async with services.database.write() as tx:
        if images:
            done = await records.record_images(tx, link_id, images, run=run)
        else:
            done = await records.skip_stage(tx, link_id, "image", run=run)
    STAGES.labels("image", outcome).inc()
    STAGE_DURATION.labels("image", outcome).observe(time.monotonic() - started)
    if done is not None:
        await pipeline.announce(done.link)
