"""``GET /api/v1/search``: full-text search over the user's links, best match first."""

from __future__ import annotations

from aiohttp import web

from linkarchive.http.jsonio import json_response
from linkarchive.http.keys import QUERY
from linkarchive.http.openapi import operation
from linkarchive.http.routes.common import services_of, text, user_id_of
from linkarchive.http.routes.links import DEFAULT_LIMIT, PAGE_QUERY
from linkarchive.http.routes.serialize import PAGE_SCHEMA, links_json
from linkarchive.storage.repositories.search import search_links

__all__ = ["setup"]

SEARCH_QUERY = {"type": "object", "additionalProperties": False, "required": ["q"], "properties": {
    "q": text(1000, description="Words to find in title, tags, description, note and URL;"
                                " every word must match, also inside longer (Korean) words."),
    **PAGE_QUERY,
}}


@operation(summary="Search the user's links", tags=("search",), query=SEARCH_QUERY,
           responses={200: PAGE_SCHEMA, 422: None})
async def search(request: web.Request) -> web.Response:
    services, user_id = services_of(request), user_id_of(request)
    query = request[QUERY]
    page, limit = query.get("page", 1), query.get("limit", DEFAULT_LIMIT)
    async with services.database.read() as conn:
        found = await search_links(conn, user_id, query["q"], page=page, limit=limit)
    return json_response({"items": await links_json(request, found.items), "next_cursor": None,
                          "page": page, "limit": limit, "has_more": found.has_more})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/search", search)
