"""Serving the local blob store's signed URLs: ``GET /files/{key}?expires=…&sig=…``.

The signature is the only credential, so this route sits outside authentication. Bad or expired
signatures answer 403 and missing objects 404, as problem details from the edge's one table.
The handler answers them itself rather than raising, so it needs no middleware to be correct.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from linkarchive.errors import Forbidden, NotFound
from linkarchive.http.problems import problem_for
from linkarchive.storage.blobs.base import cache_control, content_type_for
from linkarchive.storage.blobs.local import FILES_PREFIX, LocalBlobStore

__all__ = ["FILES_ROUTE", "file_handler"]

FILES_ROUTE = FILES_PREFIX + "{key:.+}"


def file_handler(store: LocalBlobStore) -> Handler:
    """A handler for ``FILES_ROUTE`` that serves ``store``'s objects to signed URLs."""

    async def serve_file(request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        query = request.query
        if not store.verify(key, query.get("expires", ""), query.get("sig", "")):
            return problem_for(Forbidden("The file link is invalid or has expired."), request)
        if not await store.exists(key):
            return problem_for(NotFound("There is no such file."), request)
        # FileResponse streams from disk off the loop and answers Range and conditional requests.
        return web.FileResponse(store.path(key), headers={
            hdrs.CONTENT_TYPE: content_type_for(key),
            hdrs.CACHE_CONTROL: cache_control(public=False),
            "X-Content-Type-Options": "nosniff",
        })

    return serve_file
