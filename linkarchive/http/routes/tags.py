"""``/api/v1/tags``: the user's tags with how many links carry each, and the links of one tag."""

from __future__ import annotations

from aiohttp import web

from linkarchive.http.jsonio import JSON_TYPE, dumps
from linkarchive.http.openapi import operation
from linkarchive.http.routes.common import services_of, text, user_id_of
from linkarchive.http.routes.links import LIST_TTL, PAGE_QUERY, list_page
from linkarchive.http.routes.serialize import PAGE_SCHEMA
from linkarchive.storage.cache import user_key
from linkarchive.storage.repositories.listing import LinkFilter
from linkarchive.storage.repositories.tags import list_tags

__all__ = ["setup"]

MAX_TAGS_LISTED = 1000

TAGS_SCHEMA = {
    "type": "object", "required": ["items"],
    "properties": {"items": {"type": "array", "items": {
        "type": "object", "required": ["name", "kind", "count"],
        "properties": {"name": {"type": "string"}, "kind": {"type": "string"},
                       "count": {"type": "integer", "minimum": 1}},
    }}},
}
TAG_LINKS_QUERY = {"type": "object", "additionalProperties": False, "properties": {
    **PAGE_QUERY,
    "cursor": text(512, description="`next_cursor` of the previous page; overrides `page`."),
}}


@operation(summary="The user's tags, most used first, with their link counts", tags=("tags",),
           responses={200: TAGS_SCHEMA})
async def tags(request: web.Request) -> web.Response:
    services, user_id = services_of(request), user_id_of(request)
    generation = await services.cache.user_generation(user_id)
    key = user_key(user_id, generation, "tags")
    body = await services.cache.get(key)
    if body is None:
        async with services.database.read() as conn:
            found = await list_tags(conn, user_id, limit=MAX_TAGS_LISTED)
        body = dumps({"items": [{"name": tag.name, "kind": tag.kind, "count": tag.count}
                                for tag in found]})
        await services.cache.set(key, body, LIST_TTL)
    return web.Response(body=body, content_type=JSON_TYPE)


@operation(summary="Links with one tag, newest first", tags=("tags",), query=TAG_LINKS_QUERY,
           responses={200: PAGE_SCHEMA, 422: None})
async def tag_links(request: web.Request) -> web.Response:
    return await list_page(request, LinkFilter(tag=request.match_info["name"]))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/tags", tags)
    # A tag name may hold "/" (sent as %2F), so the name takes everything up to "/links".
    app.router.add_get("/api/v1/tags/{name:.+}/links", tag_links)
