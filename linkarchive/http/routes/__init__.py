"""The API's routes: one module per area, each registering itself with ``setup(app)``."""

from __future__ import annotations

from aiohttp import web

from linkarchive.http import openapi
from linkarchive.http.files import FILES_ROUTE, file_handler
from linkarchive.http.keys import SERVICES, THUMBNAIL_URLS
from linkarchive.http.middlewares import public
from linkarchive.http.routes import auth, events, links, metrics, probes, search, sync, tags
from linkarchive.http.routes.serialize import ThumbnailUrls
from linkarchive.storage.blobs.local import LocalBlobStore

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register every route module's routes on ``app``; the document comes last."""
    probes.setup(app)
    metrics.setup(app)
    auth.setup(app)
    links.setup(app)
    tags.setup(app)
    search.setup(app)
    sync.setup(app)
    events.setup(app)
    blobs = getattr(app[SERVICES], "blobs", None)
    if blobs is not None:
        app[THUMBNAIL_URLS] = ThumbnailUrls(blobs)
    if isinstance(blobs, LocalBlobStore):  # its signed URLs point here; S3's point at S3
        app.router.add_get(FILES_ROUTE, public(file_handler(blobs)))
    openapi.setup(app)
